import fc from 'fast-check';
import {
  emptyModel,
  noteMains,
  type Attribute,
  type ForeignContact,
  type Main,
  type Mode,
  type Model,
  type ModelContact,
} from './model.ts';
import { createRemoteGroup, panelEdit, plant, remoteState } from './remote.ts';
import type { RunEnv } from './world.ts';

/**
 * Every command as plain data, so a counterexample prints as JSON and a regression test is that
 * JSON replayed. Values come from small pools so that collisions (two members, one main value)
 * and hand-overs happen often.
 */
export type Cmd =
  | {
      k: 'createGroup';
      g: string;
      type: Main;
      attrs: Attribute[];
      /** Link to a remote group created beforehand (as in Afilnet's panel) holding this. */
      link: {
        columns: string[];
        foreign: { main: string; name?: string; birthday?: string }[];
      } | null;
    }
  | { k: 'deleteGroup'; g: string }
  | {
      k: 'upsertContact';
      c: string;
      mobile: string | null;
      email: string | null;
      name: string | null;
      city: string | null;
    }
  | { k: 'setField'; c: string; field: 'mobile' | 'email' | Attribute; value: string | null }
  | { k: 'handOver'; taker: string; giver: string; field: Main; giverNew: string | null }
  | { k: 'deleteContact'; c: string }
  | {
      k: 'reinsertContact';
      c: string;
      mobile: string | null;
      email: string | null;
      name: string | null;
    }
  | { k: 'addMember'; g: string; c: string }
  | { k: 'removeMember'; g: string; c: string }
  | { k: 'plant'; g: string; main: string; name: string }
  | {
      k: 'remoteModify';
      g: string;
      c: string;
      field: Attribute;
      value: string | number | boolean | null;
    }
  | { k: 'remoteDelete'; g: string; c: string }
  | { k: 'remoteAddColumn'; g: string; field: string; withValue: boolean }
  | { k: 'remoteDeleteColumn'; g: string; field: Attribute }
  | {
      k: 'faults';
      errorRate: number;
      resetRate: number;
      appliedThenResetRate: number;
      appliedThenErrorRate: number;
    }
  | { k: 'password'; wrong: boolean }
  | { k: 'accountError'; code: 'INCORRECT_USER_PASSWORD' | 'NO_CREDITS'; forMs: number }
  | { k: 'kill'; restartAfterMs: number }
  | { k: 'wait'; ms: number }
  | { k: 'approve'; g: string };

export const GROUP_IDS = ['g1', 'g2', 'g3'];
export const CONTACT_IDS = ['c1', 'c2', 'c3', 'c4', 'c5'];
const MOBILES = [
  '34600000001',
  '34600000002',
  '34600000003',
  '34600000004',
  '34600000005',
  '34600000006',
  '34600000007',
];
const EMAILS = ['a@x.es', 'b@x.es', 'c@x.es', 'd@x.es', 'e@x.es', 'f@x.es'];
/** '' is "empty = absent"; ',' and ':' cannot go through modifycontact; 30 chars is too long. */
const NAMES = ['Ana', 'Bo', 'Cy', 'Di,Ed', 'Fe:1', 'X'.repeat(30), ''];
const CITIES = ['Vigo', 'Lugo', ''];
const RATES = [0, 0.05, 0.1, 0.2, 0.3];

const orNull = <T>(a: fc.Arbitrary<T>): fc.Arbitrary<T | null> =>
  fc.option(a, { freq: 6, nil: null });
const mobile = fc.constantFrom(...MOBILES);
const email = fc.constantFrom(...EMAILS);
const name = fc.constantFrom(...NAMES);
const city = fc.constantFrom(...CITIES);
const gid = fc.constantFrom(...GROUP_IDS);
const cid = fc.constantFrom(...CONTACT_IDS);
const attr = fc.constantFrom<Attribute>('name', 'city');

/** The command generators; strict-docs groups are always linked (creategroup gives no id). */
export function commandArbitraries(mode: Mode): fc.Arbitrary<Cmd>[] {
  const link = fc.record({
    columns: fc.subarray(['name', 'city', 'birthday']),
    foreign: fc.array(
      fc.record(
        {
          main: fc.constantFrom(...MOBILES, ...EMAILS),
          name: name,
          birthday: fc.constantFrom('1990', '2001'),
        },
        { requiredKeys: ['main'] },
      ),
      { maxLength: 3 },
    ),
  });
  const createGroup = fc.record({
    k: fc.constant('createGroup' as const),
    g: gid,
    type: fc.constantFrom<Main>('mobile', 'mobile', 'email'),
    attrs: fc.subarray<Attribute>(['name', 'city']),
    link: mode === 'strict' ? link : fc.option(link, { freq: 2, nil: null }),
  });
  const contact = fc.record({ mobile: orNull(mobile), email: orNull(email), name: orNull(name) });
  const weighted = <T>(weight: number, arbitrary: fc.Arbitrary<T>) => ({ weight, arbitrary });
  return [
    fc.oneof(
      weighted(3, createGroup),
      weighted(1, fc.record({ k: fc.constant('deleteGroup' as const), g: gid })),
      weighted(
        4,
        fc.record({
          k: fc.constant('upsertContact' as const),
          c: cid,
          mobile: orNull(mobile),
          email: orNull(email),
          name: orNull(name),
          city: orNull(city),
        }),
      ),
      weighted(
        3,
        fc.oneof(
          fc.record({
            k: fc.constant('setField' as const),
            c: cid,
            field: fc.constant('mobile' as const),
            value: orNull(fc.oneof(mobile, fc.constant(''))),
          }),
          fc.record({
            k: fc.constant('setField' as const),
            c: cid,
            field: fc.constant('email' as const),
            value: orNull(fc.oneof(email, fc.constant(''))),
          }),
          fc.record({
            k: fc.constant('setField' as const),
            c: cid,
            field: fc.constant('name' as const),
            value: orNull(name),
          }),
          fc.record({
            k: fc.constant('setField' as const),
            c: cid,
            field: fc.constant('city' as const),
            value: orNull(city),
          }),
        ),
      ),
      weighted(
        2,
        fc.oneof(
          fc.record({
            k: fc.constant('handOver' as const),
            taker: cid,
            giver: cid,
            field: fc.constant('mobile' as const),
            giverNew: orNull(mobile),
          }),
          fc.record({
            k: fc.constant('handOver' as const),
            taker: cid,
            giver: cid,
            field: fc.constant('email' as const),
            giverNew: orNull(email),
          }),
        ),
      ),
      weighted(1, fc.record({ k: fc.constant('deleteContact' as const), c: cid })),
      weighted(
        1,
        contact.chain((v) =>
          fc
            .record({ k: fc.constant('reinsertContact' as const), c: cid })
            .map((r) => ({ ...r, ...v })),
        ),
      ),
      weighted(6, fc.record({ k: fc.constant('addMember' as const), g: gid, c: cid })),
      weighted(3, fc.record({ k: fc.constant('removeMember' as const), g: gid, c: cid })),
    ),
    fc.oneof(
      fc.record({
        k: fc.constant('plant' as const),
        g: gid,
        main: fc.constantFrom(...MOBILES, ...EMAILS),
        name: fc.constantFrom('Pa', 'Pe'),
      }),
      fc.record({
        k: fc.constant('remoteModify' as const),
        g: gid,
        c: cid,
        field: attr,
        value: fc.constantFrom<string | number | boolean | null>('Panel', 'Edit', 42, true, null),
      }),
      fc.record({ k: fc.constant('remoteDelete' as const), g: gid, c: cid }),
      fc.record({
        k: fc.constant('remoteAddColumn' as const),
        g: gid,
        field: fc.constant('note'),
        withValue: fc.boolean(),
      }),
      fc.record({ k: fc.constant('remoteDeleteColumn' as const), g: gid, field: attr }),
    ),
    fc.oneof(
      fc.record({
        k: fc.constant('faults' as const),
        errorRate: fc.constantFrom(...RATES),
        resetRate: fc.constantFrom(...RATES),
        appliedThenResetRate: fc.constantFrom(...RATES),
        appliedThenErrorRate: fc.constantFrom(...RATES),
      }),
      fc.record({ k: fc.constant('password' as const), wrong: fc.boolean() }),
      fc.record({
        k: fc.constant('accountError' as const),
        code: fc.constantFrom<'INCORRECT_USER_PASSWORD' | 'NO_CREDITS'>(
          'INCORRECT_USER_PASSWORD',
          'NO_CREDITS',
        ),
        forMs: fc.constantFrom(1000, 4000, 0),
      }),
      fc.record({ k: fc.constant('kill' as const), restartAfterMs: fc.constantFrom(0, 500, 2000) }),
      fc.record({ k: fc.constant('approve' as const), g: gid }),
    ),
    fc.record({ k: fc.constant('wait' as const), ms: fc.constantFrom(100, 500, 1500, 3000) }),
  ];
}

/** Whether a command makes sense in this model state (fast-check skips it otherwise). */
export function applicable(cmd: Cmd, m: Readonly<Model>): boolean {
  const isMember = (g: string, c: string) => (m.members[g] ?? []).includes(c);
  switch (cmd.k) {
    case 'createGroup':
      return !m.groups[cmd.g];
    case 'deleteGroup':
    case 'remoteAddColumn':
    case 'remoteDeleteColumn':
    case 'approve':
      return Boolean(m.groups[cmd.g]);
    case 'upsertContact':
    case 'wait':
    case 'kill':
      return true;
    case 'setField':
    case 'deleteContact':
    case 'reinsertContact':
      return Boolean(m.contacts[cmd.c]);
    case 'handOver': {
      const giver = m.contacts[cmd.giver];
      const old = giver?.[cmd.field];
      return (
        cmd.taker !== cmd.giver &&
        Boolean(m.contacts[cmd.taker]) &&
        Boolean(old) &&
        old !== cmd.giverNew
      );
    }
    case 'addMember':
      return Boolean(m.groups[cmd.g] && m.contacts[cmd.c]) && !isMember(cmd.g, cmd.c);
    case 'removeMember':
    case 'remoteModify':
    case 'remoteDelete':
      return isMember(cmd.g, cmd.c);
    case 'plant': {
      const g = m.groups[cmd.g];
      const fits = g !== undefined && (g.type === 'email') === cmd.main.includes('@');
      return fits && !g.everMains.includes(cmd.main) && !g.foreign.some((f) => f.main === cmd.main);
    }
    case 'faults':
    case 'accountError':
      return true;
    case 'password':
      return cmd.wrong !== m.passwordWrong;
  }
}

/** The real system a command runs against, and what it ran (for the report). */
export interface Real {
  run: RunEnv;
  executed: Cmd[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function attributesJson(c: ModelContact): string {
  return JSON.stringify(c.attributes);
}

async function writeContact(run: RunEnv, id: string, c: ModelContact): Promise<void> {
  await run.pool.query(
    `INSERT INTO contacts (id, mobile, email, attributes) VALUES ($1, $2, $3, $4::jsonb)
     ON CONFLICT (id) DO UPDATE SET mobile = $2, email = $3, attributes = $4::jsonb, updated_at = now()`,
    [id, c.mobile, c.email, attributesJson(c)],
  );
}

/** The remote group id the database has for a group (linked or created by the daemon). */
async function remoteIdOf(run: RunEnv, groupId: string): Promise<string | null> {
  const res = await run.pool.query<{ id: string | null }>(
    `SELECT COALESCE(g.afilnet_id, s.remote_id) AS id FROM groups g
     LEFT JOIN sync_group_state s ON s.group_id = g.id WHERE g.id = $1`,
    [groupId],
  );
  return res.rows[0]?.id ?? null;
}

/** The remote contact holding a member's main value now, if the daemon has sent it. */
async function remoteContactOf(run: RunEnv, m: Model, groupId: string, contactId: string) {
  const g = m.groups[groupId];
  const c = m.contacts[contactId];
  const remoteId = await remoteIdOf(run, groupId);
  if (!g || !c || !remoteId) return null;
  const main = g.type === 'mobile' ? c.mobile : c.email;
  const rg = (await remoteState(run.emulatorUrl)).find((x) => String(x.idgroup) === remoteId);
  const contact = rg?.contacts.find((x) => main && x.fields[g.type] === main);
  return contact
    ? { remoteId, idcontact: String(contact.idcontact), columns: rg?.fields ?? [] }
    : null;
}

let linkCounter = 0;

/** Runs one command against the real system and applies it to the model. */
export async function execute(cmd: Cmd, m: Model, r: Real): Promise<void> {
  const run = r.run;
  const db = run.pool;
  switch (cmd.k) {
    case 'createGroup': {
      const fields = [cmd.type, ...cmd.attrs];
      let afilnetId: string | null = null;
      let linkedName: string | null = null;
      const foreign: ForeignContact[] = [];
      if (cmd.link) {
        linkedName = `${cmd.g}-link-${process.pid}-${++linkCounter}`;
        const columns = [cmd.type, ...cmd.link.columns];
        afilnetId = await createRemoteGroup(run.emulatorUrl, linkedName, cmd.type, columns);
        for (const f of cmd.link.foreign) {
          if ((cmd.type === 'email') !== f.main.includes('@')) continue;
          if (foreign.some((x) => x.main === f.main)) continue;
          const values: Record<string, string> = { [cmd.type]: f.main };
          if (f.name !== undefined && columns.includes('name')) values.name = f.name;
          if (f.birthday !== undefined && columns.includes('birthday'))
            values.birthday = f.birthday;
          // Planted (the panel's way, immune to the API faults a sequence may have set).
          await plant(run.emulatorUrl, afilnetId, values);
          foreign.push({ main: f.main, fields: values });
        }
      }
      await db.query(
        'INSERT INTO groups (id, name, type, fields, afilnet_id) VALUES ($1, $2, $3, $4, $5)',
        [cmd.g, `Group ${cmd.g}`, cmd.type, fields, afilnetId],
      );
      const valuedColumns = (cmd.link?.columns ?? []).filter(
        (col) => !(fields as string[]).includes(col) && foreign.some((f) => f.fields[col]),
      );
      m.groups[cmd.g] = {
        type: cmd.type,
        fields,
        linkedName,
        foreign,
        valuedColumns,
        everMains: [],
      };
      m.members[cmd.g] = [];
      return;
    }
    case 'deleteGroup': {
      const remoteId = await remoteIdOf(run, cmd.g);
      const rg = remoteId
        ? (await remoteState(run.emulatorUrl)).find((x) => String(x.idgroup) === remoteId)
        : undefined;
      const known = await db.query<{ remote_id: string | null }>(
        'SELECT remote_id FROM sync_group_state WHERE group_id = $1',
        [cmd.g],
      );
      await db.query('DELETE FROM groups WHERE id = $1', [cmd.g]);
      m.deletedGroups.push({
        id: cmd.g,
        remoteId,
        remoteContacts: rg?.contacts.length ?? 0,
        linkSynced: remoteId !== null && known.rows[0]?.remote_id === remoteId,
      });
      delete m.groups[cmd.g];
      delete m.members[cmd.g];
      return;
    }
    case 'upsertContact': {
      const attributes: ModelContact['attributes'] = {};
      if (cmd.name !== null) attributes.name = cmd.name;
      if (cmd.city !== null) attributes.city = cmd.city;
      const c: ModelContact = { mobile: cmd.mobile, email: cmd.email, attributes };
      await writeContact(run, cmd.c, c);
      m.contacts[cmd.c] = c;
      return;
    }
    case 'setField': {
      const c = m.contacts[cmd.c] as ModelContact;
      const next: ModelContact = { ...c, attributes: { ...c.attributes } };
      if (cmd.field === 'mobile' || cmd.field === 'email') next[cmd.field] = cmd.value;
      else if (cmd.value === null) delete next.attributes[cmd.field];
      else next.attributes[cmd.field] = cmd.value;
      if (cmd.field === 'mobile' || cmd.field === 'email') {
        await db.query(`UPDATE contacts SET ${cmd.field} = $2, updated_at = now() WHERE id = $1`, [
          cmd.c,
          cmd.value,
        ]);
      } else {
        await db.query(
          'UPDATE contacts SET attributes = $2::jsonb, updated_at = now() WHERE id = $1',
          [cmd.c, attributesJson(next)],
        );
      }
      m.contacts[cmd.c] = next;
      return;
    }
    case 'handOver': {
      const giver = m.contacts[cmd.giver] as ModelContact;
      const taker = m.contacts[cmd.taker] as ModelContact;
      const old = giver[cmd.field];
      const client = await db.connect();
      try {
        await client.query('BEGIN');
        await client.query(
          `UPDATE contacts SET ${cmd.field} = $2, updated_at = now() WHERE id = $1`,
          [cmd.giver, cmd.giverNew],
        );
        await client.query(
          `UPDATE contacts SET ${cmd.field} = $2, updated_at = now() WHERE id = $1`,
          [cmd.taker, old],
        );
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK');
        throw err;
      } finally {
        client.release();
      }
      m.contacts[cmd.giver] = { ...giver, [cmd.field]: cmd.giverNew };
      m.contacts[cmd.taker] = { ...taker, [cmd.field]: old };
      return;
    }
    case 'deleteContact': {
      await db.query('DELETE FROM contacts WHERE id = $1', [cmd.c]);
      delete m.contacts[cmd.c];
      for (const g of Object.keys(m.members))
        m.members[g] = (m.members[g] ?? []).filter((x) => x !== cmd.c);
      return;
    }
    case 'reinsertContact': {
      // A re-import: the contact deleted and created again under the same id, memberships too.
      const groups = Object.keys(m.members).filter((g) => (m.members[g] ?? []).includes(cmd.c));
      const attributes: ModelContact['attributes'] = cmd.name === null ? {} : { name: cmd.name };
      const c: ModelContact = { mobile: cmd.mobile, email: cmd.email, attributes };
      const client = await db.connect();
      try {
        await client.query('BEGIN');
        await client.query('DELETE FROM contacts WHERE id = $1', [cmd.c]);
        await client.query(
          'INSERT INTO contacts (id, mobile, email, attributes) VALUES ($1, $2, $3, $4::jsonb)',
          [cmd.c, c.mobile, c.email, attributesJson(c)],
        );
        for (const g of groups) {
          await client.query('INSERT INTO group_members (group_id, contact_id) VALUES ($1, $2)', [
            g,
            cmd.c,
          ]);
        }
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK');
        throw err;
      } finally {
        client.release();
      }
      m.contacts[cmd.c] = c;
      return;
    }
    case 'addMember':
      await db.query('INSERT INTO group_members (group_id, contact_id) VALUES ($1, $2)', [
        cmd.g,
        cmd.c,
      ]);
      (m.members[cmd.g] ??= []).push(cmd.c);
      return;
    case 'removeMember':
      await db.query('DELETE FROM group_members WHERE group_id = $1 AND contact_id = $2', [
        cmd.g,
        cmd.c,
      ]);
      m.members[cmd.g] = (m.members[cmd.g] ?? []).filter((x) => x !== cmd.c);
      return;
    case 'plant': {
      const g = m.groups[cmd.g];
      const remoteId = await remoteIdOf(run, cmd.g);
      if (!g || !remoteId) return; // nothing remote yet: the panel has no group to plant into
      const rg = (await remoteState(run.emulatorUrl)).find((x) => String(x.idgroup) === remoteId);
      if (!rg || rg.contacts.some((x) => x.fields[g.type] === cmd.main)) return;
      const fields: Record<string, string> = { [g.type]: cmd.main };
      if (rg.fields.includes('name')) fields.name = cmd.name;
      await plant(run.emulatorUrl, remoteId, fields);
      g.foreign.push({ main: cmd.main, fields });
      return;
    }
    case 'remoteModify': {
      const found = await remoteContactOf(run, m, cmd.g, cmd.c);
      if (!found || !found.columns.includes(cmd.field)) return;
      await panelEdit(
        run.emulatorUrl,
        'PATCH',
        `groups/${found.remoteId}/contacts/${found.idcontact}`,
        {
          fields: { [cmd.field]: cmd.value },
        },
      );
      m.drift = true;
      return;
    }
    case 'remoteDelete': {
      const found = await remoteContactOf(run, m, cmd.g, cmd.c);
      if (!found) return;
      await panelEdit(
        run.emulatorUrl,
        'DELETE',
        `groups/${found.remoteId}/contacts/${found.idcontact}`,
      );
      m.drift = true;
      return;
    }
    case 'remoteAddColumn': {
      const g = m.groups[cmd.g];
      const remoteId = await remoteIdOf(run, cmd.g);
      if (!g || !remoteId) return;
      const rg = (await remoteState(run.emulatorUrl)).find((x) => String(x.idgroup) === remoteId);
      if (!rg || rg.fields.includes(cmd.field)) return;
      const first = rg.contacts[0];
      const values = cmd.withValue && first ? { [String(first.idcontact)]: 'panel note' } : {};
      await panelEdit(run.emulatorUrl, 'POST', `groups/${remoteId}/columns`, {
        field: cmd.field,
        values,
      });
      if (Object.keys(values).length > 0 && !g.fields.includes(cmd.field))
        g.valuedColumns.push(cmd.field);
      m.drift = true;
      return;
    }
    case 'remoteDeleteColumn': {
      const remoteId = await remoteIdOf(run, cmd.g);
      if (!remoteId) return;
      const rg = (await remoteState(run.emulatorUrl)).find((x) => String(x.idgroup) === remoteId);
      if (!rg?.fields.includes(cmd.field)) return;
      await panelEdit(
        run.emulatorUrl,
        'DELETE',
        `groups/${remoteId}/columns/${encodeURIComponent(cmd.field)}`,
      );
      const g = m.groups[cmd.g];
      if (g) g.valuedColumns = g.valuedColumns.filter((f) => f !== cmd.field);
      m.drift = true;
      return;
    }
    case 'accountError':
      await run.setFaults({ accountError: cmd.code, accountErrorForMs: cmd.forMs });
      m.faultsOn = true;
      return;
    case 'faults': {
      const { k: _k, ...rates } = cmd;
      await run.setFaults(rates);
      m.faultsOn = Object.values(rates).some((v) => v > 0);
      return;
    }
    case 'password':
      await run.killDaemon();
      run.startDaemon({ wrongPassword: cmd.wrong });
      m.passwordWrong = cmd.wrong;
      return;
    case 'kill':
      await run.killDaemon();
      await sleep(cmd.restartAfterMs);
      run.startDaemon({ wrongPassword: m.passwordWrong });
      return;
    case 'wait':
      await sleep(cmd.ms);
      return;
    case 'approve':
      await run.cli(['approve-deletes', cmd.g, '--json']);
      m.approvals.push(cmd.g);
      return;
  }
}

/** A fast-check command around one plain-data command. */
export class ModelCommand implements fc.AsyncCommand<Model, Real> {
  constructor(readonly cmd: Cmd) {}
  check(m: Readonly<Model>): boolean {
    return applicable(this.cmd, m);
  }
  async run(m: Model, r: Real): Promise<void> {
    r.executed.push(this.cmd);
    await execute(this.cmd, m, r);
    noteMains(m);
  }
  toString(): string {
    return JSON.stringify(this.cmd);
  }
}

export { emptyModel };
