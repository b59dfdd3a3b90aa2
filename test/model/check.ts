import {
  badKinds,
  project,
  unclaimedForeign,
  valueOf,
  type Model,
  type ModelContact,
} from './model.ts';
import { remoteState, type RemoteContact, type RemoteGroup } from './remote.ts';
import { DELETE_GUARD_MIN, MAX_FIELD_LENGTH, type RunEnv } from './world.ts';

const BAD_INPUT_CODES = [
  'MISSING_MAIN_FIELD',
  'VALUE_TOO_LONG',
  'DUPLICATE_MAIN_FIELD',
  'UNENCODABLE_VALUE',
];
const isBadInputError = (e: string | null) =>
  e !== null && BAD_INPUT_CODES.some((c) => e.startsWith(c));

/** Work left that no open hold explains: outbox rows, dirty marks, dirty groups. */
async function pending(run: RunEnv): Promise<{ outbox: number; dirty: number; groups: number }> {
  const res = await run.pool.query<{ outbox: number; dirty: number; groups: number }>(
    `SELECT (SELECT count(*) FROM sync_outbox)::int AS outbox,
            (SELECT count(*) FROM sync_dirty d WHERE NOT EXISTS (SELECT 1 FROM sync_holds x
               WHERE x.group_id = d.group_id AND x.approved_at IS NULL))::int AS dirty,
            (SELECT count(*) FROM sync_group_state s WHERE s.dirty AND NOT EXISTS (SELECT 1 FROM sync_holds x
               WHERE x.group_id = s.group_id AND x.approved_at IS NULL))::int AS groups`,
  );
  return res.rows[0] ?? { outbox: 0, dirty: 0, groups: 0 };
}

/**
 * Plays the operator for the one case the daemon hands to a person: a creategroup whose outcome
 * stayed unknown twice (no Afilnet method lists groups). The operator asks for a new group.
 */
async function retryStoppedCreates(run: RunEnv): Promise<void> {
  const stopped = await run.pool.query<{ group_id: string }>(
    `SELECT group_id FROM sync_group_state
     WHERE status = 'failed' AND last_error LIKE 'creategroup''s outcome is unknown%'`,
  );
  for (const r of stopped.rows) await run.cli(['retry', '--group', r.group_id], 30_000);
}

async function waitSettled(run: RunEnv, m: Model, timeoutMs: number): Promise<string | null> {
  const deadline = Date.now() + timeoutMs;
  let calm = 0;
  let last = { outbox: -1, dirty: -1, groups: -1 };
  while (Date.now() < deadline) {
    run.ensureRunning(m.passwordWrong);
    if (run.crashes.length > 3)
      return `the daemon keeps exiting: ${run.crashes.at(-1)?.slice(-800)}`;
    await retryStoppedCreates(run);
    last = await pending(run);
    calm = last.outbox + last.dirty + last.groups === 0 ? calm + 1 : 0;
    if (calm >= 3) return null;
    await new Promise((r) => setTimeout(r, 500));
  }
  return `did not quiesce within ${timeoutMs} ms: ${JSON.stringify(last)}`;
}

/**
 * Ends a sequence: faults off, the right password, the daemon up; waits until nothing but held
 * work is left; after remote edits, has an operator run `resync --all` and waits again.
 * Returns a problem when it cannot get there.
 */
export async function quiesce(run: RunEnv, m: Model, timeoutMs = 180_000): Promise<string | null> {
  await run.faultsOff();
  m.faultsOn = false;
  if (m.passwordWrong) {
    await run.killDaemon();
    m.passwordWrong = false;
    run.startDaemon();
  }
  const first = await waitSettled(run, m, timeoutMs);
  if (first || !m.drift) return first;
  try {
    await run.cli(['resync', '--all', '--json'], timeoutMs);
  } catch (err) {
    return `resync --all failed: ${(err as Error).message.slice(0, 500)}`;
  }
  m.resynced = true;
  return waitSettled(run, m, timeoutMs);
}

interface StateRow {
  group_id: string;
  contact_id: string;
  status: string;
  last_error: string | null;
  remote_id: string | null;
  main_value: string | null;
}

/** What the database holds, read back the way the model describes it. */
async function readDatabase(run: RunEnv) {
  const groups = await run.pool.query<{
    id: string;
    type: string;
    fields: string[];
    afilnet_id: string | null;
    remote_id: string | null;
    status: string | null;
    last_error: string | null;
  }>(
    `SELECT g.id, g.type, g.fields, g.afilnet_id, s.remote_id, s.status, s.last_error
     FROM groups g LEFT JOIN sync_group_state s ON s.group_id = g.id ORDER BY g.id`,
  );
  const contacts = await run.pool.query<{
    id: string;
    mobile: string | null;
    email: string | null;
    attributes: Record<string, string>;
  }>('SELECT id, mobile, email, attributes FROM contacts ORDER BY id');
  const members = await run.pool.query<{ group_id: string; contact_id: string }>(
    'SELECT group_id, contact_id FROM group_members ORDER BY group_id, contact_id',
  );
  const states = await run.pool.query<StateRow>(
    'SELECT group_id, contact_id, status, last_error, remote_id, main_value FROM sync_member_state',
  );
  const holds = await run.pool.query<{ group_id: string; kind: string; approved_at: Date | null }>(
    'SELECT group_id, kind, approved_at FROM sync_holds',
  );
  return {
    groups: groups.rows,
    contacts: contacts.rows,
    members: members.rows,
    states: states.rows,
    holds: holds.rows,
  };
}

/** The model must say what the database says, or the check below would judge the wrong thing. */
function modelMatchesDatabase(m: Model, db: Awaited<ReturnType<typeof readDatabase>>): string[] {
  const problems: string[] = [];
  const modelGroups = Object.keys(m.groups).sort();
  const dbGroups = db.groups.map((g) => g.id);
  if (modelGroups.join() !== dbGroups.join())
    problems.push(`model groups ${modelGroups.join(',')} != db ${dbGroups.join(',')}`);
  for (const c of db.contacts) {
    const mc = m.contacts[c.id];
    const same =
      mc &&
      mc.mobile === c.mobile &&
      mc.email === c.email &&
      JSON.stringify(Object.entries(mc.attributes).sort()) ===
        JSON.stringify(Object.entries(c.attributes).sort());
    if (!same)
      problems.push(`model contact ${c.id} ${JSON.stringify(mc)} != db ${JSON.stringify(c)}`);
  }
  if (db.contacts.length !== Object.keys(m.contacts).length)
    problems.push('model and db differ in contacts');
  const modelMembers = Object.entries(m.members)
    .flatMap(([g, cs]) => cs.map((c) => `${g}/${c}`))
    .sort();
  const dbMembers = db.members.map((x) => `${x.group_id}/${x.contact_id}`).sort();
  if (modelMembers.join() !== dbMembers.join())
    problems.push(`model members ${modelMembers.join(',')} != db ${dbMembers.join(',')}`);
  return problems.map((p) => `MODEL: ${p}`);
}

const show = (fields: Record<string, string>) => JSON.stringify(fields);

/**
 * The verdict after quiescence: the emulator's state against the projection of the database
 * (through the model, which is first checked to equal the database). Returns every problem.
 */
export async function checkRun(run: RunEnv, m: Model): Promise<string[]> {
  const db = await readDatabase(run);
  const problems = modelMatchesDatabase(m, db);
  const remote = await remoteState(run.emulatorUrl);
  const remoteById = new Map(remote.map((g) => [String(g.idgroup), g]));
  const openHold = (g: string) => db.holds.some((h) => h.group_id === g && h.approved_at === null);
  const anyHold = (g: string) => db.holds.some((h) => h.group_id === g);
  const accounted = new Set<string>();

  for (const row of db.groups) {
    const g = m.groups[row.id];
    if (!g) continue;
    const where = `group ${row.id}`;
    const remoteId = row.afilnet_id ?? row.remote_id;
    const rg: RemoteGroup | undefined = remoteId ? remoteById.get(remoteId) : undefined;
    if (remoteId) accounted.add(remoteId);
    if (row.status === 'failed') problems.push(`${where}: status failed: ${row.last_error}`);
    if (!rg) {
      problems.push(
        `${where}: no remote group (afilnet_id ${row.afilnet_id}, remote ${row.remote_id})`,
      );
      continue;
    }
    for (const f of g.fields) {
      if (!rg.fields.includes(f))
        problems.push(`${where}: remote column ${f} missing (remote ${rg.fields.join(',')})`);
    }
    const held = openHold(row.id);
    const main = g.type;
    const byMain = new Map<string, RemoteContact[]>();
    for (const c of rg.contacts) {
      const v = c.fields[main] ?? '';
      byMain.set(v, [...(byMain.get(v) ?? []), c]);
    }
    for (const [v, list] of byMain) {
      if (list.length > 1)
        problems.push(`${where}: ${list.length} remote contacts with ${main} "${v}"`);
    }
    const memberIds = m.members[row.id] ?? [];
    const want = new Map(
      memberIds.map((cid) => [cid, project(m.contacts[cid] as ModelContact, g)]),
    );
    const sharers = new Map<string, string[]>();
    for (const [cid, w] of want)
      if (w[main]) sharers.set(w[main], [...(sharers.get(w[main]) ?? []), cid]);
    const state = new Map(
      db.states.filter((s) => s.group_id === row.id).map((s) => [s.contact_id, s]),
    );
    const remnants = new Set(
      db.states
        .filter((s) => s.group_id === row.id && s.status === 'failed')
        .flatMap((s) => [s.remote_id, s.main_value]),
    );
    for (const [cid, w] of want) {
      const mainValue = w[main] ?? '';
      const shared = (sharers.get(mainValue)?.length ?? 0) > 1;
      const kinds = badKinds(w, main, shared, MAX_FIELD_LENGTH);
      const s = state.get(cid);
      const found = byMain.get(mainValue)?.[0];
      const who = `${where} member ${cid} (${main} "${mainValue}", state ${s ? `${s.status}${s.last_error ? ` ${s.last_error}` : ''}` : 'none'})`;
      if (kinds.includes('no_main') || kinds.includes('too_long')) continue;
      if (shared) {
        const set = sharers.get(mainValue) ?? [];
        if (set[0] !== cid) continue;
        if (!found) problems.push(`${who}: none of ${set.join(',')} is remote`);
        else if (
          !set.some((o) =>
            Object.entries(want.get(o) ?? {}).every(([f, v]) => (found.fields[f] ?? '') === v),
          )
        )
          problems.push(`${who}: remote ${show(found.fields)} matches none of ${set.join(',')}`);
        continue;
      }
      const unencodableFailure =
        s?.status === 'failed' && kinds.includes('unencodable') && isBadInputError(s.last_error);
      if (s?.status === 'failed' && !unencodableFailure) {
        problems.push(`${who}: failed although its input is valid`);
        continue;
      }
      if (unencodableFailure) continue;
      if (!found) {
        problems.push(`${who}: not remote (lost)`);
        continue;
      }
      const stale = Object.entries(w).filter(([f, v]) => (found.fields[f] ?? '') !== v);
      if (stale.length > 0) problems.push(`${who}: remote ${show(found.fields)}, want ${show(w)}`);
    }
    // Every remote contact must be a member's, a foreign one, a failed member's remnant, or held.
    const foreignMains = new Set(g.foreign.map((f) => f.main));
    for (const [v, list] of byMain) {
      if (sharers.has(v) || foreignMains.has(v)) continue;
      if (memberIds.some((cid) => valueOf(m.contacts[cid] as ModelContact, main) === v)) continue;
      if (remnants.has(v) || list.some((c) => remnants.has(String(c.idcontact)))) continue;
      if (held) continue;
      problems.push(
        `${where}: remote contact ${show(list[0]?.fields ?? {})} belongs to no member (a removed member still remote)`,
      );
    }
    // Nothing the database does not know may be destroyed without an approval.
    for (const col of g.valuedColumns) {
      if (!rg.fields.includes(col) && !anyHold(row.id))
        problems.push(
          `${where}: remote column ${col} with values the database does not know was deleted without an approval`,
        );
    }
    if (!m.resynced) {
      for (const f of unclaimedForeign(g)) {
        const r = byMain.get(f.main)?.[0];
        const lost = r
          ? Object.entries(f.fields).filter(([k, v]) => v !== '' && (r.fields[k] ?? '') !== v)
          : [];
        if ((!r || lost.length > 0) && !anyHold(row.id)) {
          problems.push(
            `${where}: remote contact ${show(f.fields)} the database does not know was ${r ? `changed to ${show(r.fields)}` : 'deleted'} without an approval`,
          );
        }
      }
    }
  }
  for (const d of m.deletedGroups) {
    if (!d.remoteId) continue;
    if (!d.linkSynced) {
      // Deleted before the daemon took the link up: the remote group is left as the operator
      // made it, and it accounts for its own contacts.
      accounted.add(d.remoteId);
      continue;
    }
    if (m.groups[d.id] && accounted.has(d.remoteId)) continue; // re-created and linked again
    accounted.add(d.remoteId);
    const rg = remoteById.get(d.remoteId);
    if (rg && !openHold(d.id)) {
      problems.push(
        `deleted group ${d.id}: remote group ${d.remoteId} still there (${rg.contacts.length} contacts), no open hold`,
      );
    }
    if (!rg && d.remoteContacts > DELETE_GUARD_MIN && !anyHold(d.id)) {
      problems.push(
        `deleted group ${d.id}: remote group ${d.remoteId} with ${d.remoteContacts} contacts deleted without an approval`,
      );
    }
  }
  for (const rg of remote) {
    if (accounted.has(String(rg.idgroup)) || rg.contacts.length === 0) continue;
    problems.push(
      `remote group ${rg.idgroup} (${rg.name}) holds ${rg.contacts.length} contacts and no group row accounts for it`,
    );
  }
  return problems;
}
