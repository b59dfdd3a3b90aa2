import type pg from 'pg';
import {
  badKinds,
  differingFields,
  expectedFields,
  isBadInputError,
  type BadKind,
  type MemberRow,
} from './check-model.ts';
import { groupBy, readCheckInput } from './check-read.ts';
import type { RemoteGroup } from './emulator-process.ts';

type Counted = 'lost' | 'duplicated' | 'unexpected' | 'stale' | 'groupProblems';
const EXAMPLES = 40;
const EXAMPLES_PER_CAUSE = 5;

export interface CheckResult {
  /** The five counts that fail the soak. */
  lost: number;
  duplicated: number;
  unexpected: number;
  stale: number;
  groupProblems: number;
  /** Reported, never failing: members the provider cannot take as they are, by reason. */
  badInput: Record<BadKind, number>;
  /** Made bad on purpose, recorded failed, and valid again now (e.g. the other duplicate left). */
  failedNowValid: number;
  /** Remote contacts a failed member left behind (a refused modify), explained, not unexpected. */
  failedRemnants: number;
  orphanRemoteGroups: number;
  members: number;
  remoteContacts: number;
  groups: number;
  perGroup: Record<string, Partial<Record<Counted | 'members' | 'remote', number>>>;
  /** Counts by kind and by what the daemon last recorded (lost, stale), for triage. */
  causes: Record<string, number>;
  examples: Record<string, unknown[]>;
}

export const failing = (r: CheckResult): number =>
  r.lost + r.duplicated + r.unexpected + r.stale + r.groupProblems;

/**
 * Jepsen-style final read: every group's members in Postgres against the emulator's state. Each
 * member is classified once, from its current data, and each remote contact is accounted for.
 */
export async function checkConvergence(
  pool: pg.Pool,
  remote: RemoteGroup[],
  opts: { maxFieldLength: number; deletedGroupNames: string[] },
): Promise<CheckResult> {
  const r: CheckResult = {
    lost: 0,
    duplicated: 0,
    unexpected: 0,
    stale: 0,
    groupProblems: 0,
    badInput: { no_main: 0, too_long: 0, duplicate: 0, unencodable: 0 },
    failedNowValid: 0,
    failedRemnants: 0,
    orphanRemoteGroups: 0,
    members: 0,
    remoteContacts: remote.reduce((n, g) => n + g.contacts.length, 0),
    groups: 0,
    perGroup: {},
    causes: {},
    examples: {},
  };
  const note = (
    what: Counted | 'failedNowValid' | 'failedRemnants',
    group: string,
    example: unknown,
  ) => {
    if (what === 'failedNowValid' || what === 'failedRemnants') r[what]++;
    else {
      r[what]++;
      const counts = (r.perGroup[group] ??= {});
      counts[what] = (counts[what] ?? 0) + 1;
    }
    const cause = (example as { cause?: string }).cause;
    const key = `${what}: ${cause ?? '-'}`;
    const seen = (r.causes[key] = (r.causes[key] ?? 0) + 1);
    // A few examples of every cause, so a rare one is not hidden behind a frequent one.
    const list = (r.examples[what] ??= []);
    if (seen <= EXAMPLES_PER_CAUSE && list.length < EXAMPLES) {
      list.push({ group, ...(example as object) });
    }
  };

  const { groups, membersByGroup, failedHeld, deliberate } = await readCheckInput(pool);
  const remoteById = new Map(remote.map((g) => [String(g.idgroup), g]));
  const linked = new Set<string>();
  r.groups = groups.length;

  for (const g of groups) {
    const main = g.type;
    const columns = [...new Set([main, ...g.fields])];
    const rows = membersByGroup.get(g.id) ?? [];
    r.members += rows.length;
    const rg = g.afilnet_id ? remoteById.get(g.afilnet_id) : undefined;
    if (g.afilnet_id) linked.add(g.afilnet_id);
    r.perGroup[g.id] = { members: rows.length, remote: rg?.contacts.length ?? 0 };
    if (g.status === 'failed' || g.status === 'held') {
      note('groupProblems', g.id, { problem: `group status ${g.status}`, error: g.last_error });
    }
    if (!rg) note('groupProblems', g.id, { problem: 'no remote group', afilnetId: g.afilnet_id });
    else if ([...rg.fields].sort().join() !== [...columns].sort().join()) {
      note('groupProblems', g.id, {
        problem: 'remote columns differ',
        remote: rg.fields,
        want: columns,
      });
    }
    const remoteByMain = groupBy(
      (rg?.contacts ?? []).map((c) => ({ idcontact: String(c.idcontact), fields: c.fields })),
      (c) => c.fields[main] ?? '',
    );
    for (const [value, list] of remoteByMain) {
      for (const extra of list.slice(1))
        note('duplicated', g.id, { main: value, idcontact: extra.idcontact });
    }
    const wants = new Map(rows.map((m) => [m, expectedFields(m, columns)]));
    const sharers = groupBy(
      rows.filter((m) => wants.get(m)?.[main]),
      (m) => wants.get(m)?.[main] ?? '',
    );
    const evidence = (m: MemberRow, extra: object = {}) => {
      const cause =
        m.status === 'failed'
          ? `failed ${m.last_error?.split(':')[0]}`
          : `${m.status ?? 'no state'} after ${m.last_method}`;
      return {
        contact: m.contact_id,
        main: wants.get(m)?.[main],
        status: m.status,
        error: m.last_error,
        lastMethod: m.last_method,
        lastResult: m.last_result,
        remoteId: m.remote_id,
        cause,
        ...extra,
      };
    };
    const seenDuplicateSets = new Set<string>();
    for (const m of rows) {
      const want = wants.get(m) as Record<string, string>;
      const mainValue = want[main] ?? '';
      const shared = (sharers.get(mainValue)?.length ?? 0) > 1;
      const kinds = badKinds(want, main, shared, opts.maxFieldLength);
      const found = remoteByMain.get(mainValue)?.[0];
      if (kinds.includes('no_main') || kinds.includes('too_long')) {
        r.badInput[kinds.includes('no_main') ? 'no_main' : 'too_long']++;
        continue;
      }
      if (shared) {
        r.badInput.duplicate++;
        if (seenDuplicateSets.has(mainValue)) continue;
        seenDuplicateSets.add(mainValue);
        // One of the members sharing the value is remote, holding that member's values.
        if (!found) note('lost', g.id, evidence(m, { duplicateSet: true }));
        else if (
          !(sharers.get(mainValue) ?? []).some(
            (s) => differingFields(wants.get(s) ?? {}, found.fields).length === 0,
          )
        ) {
          note('stale', g.id, evidence(m, { duplicateSet: true, remote: found.fields }));
        }
        continue;
      }
      const failedForInput = m.status === 'failed' && isBadInputError(m.last_error);
      // Excused only when the soak made this record bad on purpose; a failure the daemon
      // recorded for input that was never bad falls through and counts as lost or stale.
      if (failedForInput && !kinds.includes('unencodable') && deliberate.has(m.contact_id)) {
        note('failedNowValid', g.id, evidence(m, { remote: found?.fields ?? null }));
        continue;
      }
      if (!found) {
        note('lost', g.id, evidence(m));
        continue;
      }
      if (kinds.includes('unencodable') && failedForInput) {
        r.badInput.unencodable++;
        continue;
      }
      const differing = differingFields(want, found.fields);
      if (differing.length > 0) {
        note('stale', g.id, evidence(m, { fields: differing, want, remote: found.fields }));
      }
    }
    const remnants = failedHeld.get(g.id) ?? new Set<string>();
    for (const [value, list] of remoteByMain) {
      if (sharers.has(value)) continue;
      const first = list[0];
      if (remnants.has(value) || (first && remnants.has(first.idcontact)))
        note('failedRemnants', g.id, { main: value });
      else
        note('unexpected', g.id, {
          main: value,
          idcontact: first?.idcontact,
          fields: first?.fields,
        });
    }
  }
  for (const rg of remote) {
    if (linked.has(String(rg.idgroup))) continue;
    // Left by a crash between creategroup and recording its id: empty, so harmless. One that
    // holds contacts (a deleted group still remote, or adds sent to the wrong group) is not.
    r.orphanRemoteGroups++;
    const where = `remote ${rg.idgroup}`;
    const deleted = opts.deletedGroupNames.includes(rg.name);
    (r.examples.orphanRemoteGroups ??= []).push({
      name: rg.name,
      contacts: rg.contacts.length,
      deleted,
    });
    if (rg.contacts.length === 0) continue;
    note('groupProblems', where, {
      problem: 'unlinked remote group holds contacts',
      name: rg.name,
      deleted,
    });
    for (const c of rg.contacts) note('unexpected', where, { name: rg.name, fields: c.fields });
  }
  return r;
}
