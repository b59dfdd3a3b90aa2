import type pg from 'pg';
import type { GroupDef } from './bench-daemon.ts';
import { seededRandom } from './seeded-random.ts';

/** One CRM transaction: its statements run between BEGIN and COMMIT (a single one autocommits). */
export interface CrmTransaction {
  statements: { sql: string; params?: unknown[] }[];
}

interface ContactRow {
  id: string;
  mobile: string | null;
  email: string | null;
  attributes: Record<string, string>;
}

/** The workload of the call-efficiency scenario; docs/benchmarks.md describes it in words. */
export interface CrmWorkload {
  groups: GroupDef[];
  /** The initial import: one transaction. */
  seed: CrmTransaction[];
  /** Later CRM activity: many small transactions, shuffled, committed back to back. */
  changes: CrmTransaction[];
  /** How many of each kind of change the workload holds. */
  counts: Record<string, number>;
  /** The kind of change each changed seeded contact got (a key of `counts`). */
  kindOf: Map<string, string>;
}

export const CRM_GROUPS: GroupDef[] = [
  { id: 'customers', type: 'mobile', fields: ['mobile', 'name', 'city'] },
  { id: 'newsletter', type: 'email', fields: ['email', 'name'] },
  { id: 'vip', type: 'mobile', fields: ['mobile', 'name', 'tier'] },
  { id: 'sms-alerts', type: 'mobile', fields: ['mobile', 'city'] },
];
/** Chance that a contact is a member of each group, in CRM_GROUPS order. */
const MEMBERSHIP = [0.6, 0.5, 0.15, 0.3];
const CITIES = ['Madrid', 'Sevilla', 'Bilbao', 'Valencia', 'Murcia', 'Vigo', 'Lugo', 'Cádiz'];
const TIERS = ['gold', 'silver', 'bronze'];

const INSERT_CONTACTS = `INSERT INTO contacts (id, mobile, email, attributes)
  SELECT id, mobile, email, attributes
  FROM jsonb_to_recordset($1::jsonb) AS x(id text, mobile text, email text, attributes jsonb)`;
const INSERT_MEMBERS = `INSERT INTO group_members (group_id, contact_id)
  SELECT g, c FROM jsonb_to_recordset($1::jsonb) AS x(g text, c text)`;
const SET_ATTRIBUTE = `UPDATE contacts SET attributes = attributes || jsonb_build_object($2::text, $3::text) WHERE id = $1`;

const one = (sql: string, params?: unknown[]): CrmTransaction => ({
  statements: [params ? { sql, params } : { sql }],
});

/**
 * Generates the CRM workload for `contacts` contacts (seeded: identical every run). Every kind of
 * change draws from its own contacts, so the kinds never overlap and each can be counted.
 */
export function crmWorkload(contacts: number, seed = 8): CrmWorkload {
  const rnd = seededRandom(seed);
  const rows: ContactRow[] = [];
  const members: { g: string; c: string }[] = [];
  const groupsOf = new Map<string, string[]>();
  const newContact = (i: number): ContactRow => ({
    id: `c${i}`,
    mobile: `346${String(i).padStart(8, '0')}`,
    email: `user${i}@example.com`,
    attributes: { name: `Name ${i}`, city: rnd.pick(CITIES), tier: rnd.pick(TIERS), notes: 'n0' },
  });
  const join = (row: ContactRow, forced?: string): void => {
    const gs = CRM_GROUPS.filter((_, k) => rnd.next() < (MEMBERSHIP[k] ?? 0)).map((g) => g.id);
    if (forced && !gs.includes(forced)) gs.push(forced);
    if (gs.length === 0) gs.push(rnd.pick(CRM_GROUPS).id);
    groupsOf.set(row.id, gs);
    for (const g of gs) members.push({ g, c: row.id });
  };
  for (let i = 1; i <= contacts; i++) {
    const row = newContact(i);
    rows.push(row);
    join(row);
  }
  // Bad records in the import: no mobile in a mobile group; a name over MAX_FIELD_LENGTH (255).
  const bad: ContactRow[] = [];
  for (let j = 0; j < 10; j++) bad.push({ ...newContact(contacts + 1 + j), mobile: null });
  for (let j = 10; j < 15; j++) {
    const row = newContact(contacts + 1 + j);
    bad.push({ ...row, attributes: { ...row.attributes, name: 'x'.repeat(300) } });
  }
  for (const row of bad) join(row, 'customers');
  const seedTx: CrmTransaction = {
    statements: [
      { sql: INSERT_CONTACTS, params: [JSON.stringify([...rows, ...bad])] },
      { sql: INSERT_MEMBERS, params: [JSON.stringify(members)] },
    ],
  };

  // Changes draw on valid seeded contacts, each contact used by one kind of change only.
  const pool = rnd.shuffle(rows.map((r) => r.id));
  let taken = 0;
  const draw = (share: number): string[] => {
    const n = Math.max(1, Math.round(contacts * share));
    const ids = pool.slice(taken, taken + n);
    taken += n;
    return ids;
  };
  const units: CrmTransaction[][] = [];
  const real = draw(0.15);
  real.forEach((id, k) => {
    const i = id.slice(1);
    const kind = k % 20;
    if (kind < 10) units.push([one(SET_ATTRIBUTE, [id, 'name', `Renamed ${i}`])]);
    else if (kind < 16) units.push([one(SET_ATTRIBUTE, [id, 'city', `Nueva ${i}`])]);
    else if (kind < 19) units.push([one(SET_ATTRIBUTE, [id, 'tier', 'platinum'])]);
    else
      units.push([
        one('UPDATE contacts SET mobile = $2 WHERE id = $1', [id, `347${i.padStart(8, '0')}`]),
      ]);
  });
  const silent = draw(0.15);
  for (const id of silent) units.push([one(SET_ATTRIBUTE, [id, 'notes', `seen ${id}`])]);
  const multi = draw(0.03);
  for (const id of multi) {
    // Three saves in a row of the same record, each its own transaction, committed back to back.
    units.push([1, 2, 3].map((v) => one(SET_ATTRIBUTE, [id, 'name', `Edited ${id} v${v}`])));
  }
  const leave = draw(0.03);
  for (const id of leave) {
    const g = rnd.pick(groupsOf.get(id) ?? []);
    units.push([one('DELETE FROM group_members WHERE group_id = $1 AND contact_id = $2', [g, id])]);
  }
  const gone = draw(0.01);
  for (const id of gone) units.push([one('DELETE FROM contacts WHERE id = $1', [id])]);
  const commas = draw(5 / contacts);
  for (const id of commas) units.push([one(SET_ATTRIBUTE, [id, 'name', `Smith, ${id}`])]);

  // New contacts: one import transaction (with five bad ones: no e-mail in the newsletter).
  let next = contacts + bad.length + 1;
  const added: ContactRow[] = [];
  const addedMembers: { g: string; c: string }[] = [];
  const joinInto = (row: ContactRow, forced?: string) => {
    const before = members.length;
    join(row, forced);
    addedMembers.push(...members.splice(before));
  };
  const addCount = Math.max(1, Math.round(contacts * 0.05));
  for (let j = 0; j < addCount; j++) {
    const row = newContact(next++);
    added.push(row);
    joinInto(row);
  }
  for (let j = 0; j < 5; j++) {
    const row = { ...newContact(next++), email: null };
    added.push(row);
    joinInto(row, 'newsletter');
  }
  units.push([
    {
      statements: [
        { sql: INSERT_CONTACTS, params: [JSON.stringify(added)] },
        { sql: INSERT_MEMBERS, params: [JSON.stringify(addedMembers)] },
      ],
    },
  ]);
  // Added then deleted in the same transaction: the contact never needs to reach Afilnet.
  const flash = Math.max(1, Math.round(contacts * 0.01));
  for (let j = 0; j < flash; j++) {
    const row = newContact(next++);
    const flashMembers: { g: string; c: string }[] = [];
    const before = members.length;
    join(row);
    flashMembers.push(...members.splice(before));
    units.push([
      {
        statements: [
          { sql: INSERT_CONTACTS, params: [JSON.stringify([row])] },
          { sql: INSERT_MEMBERS, params: [JSON.stringify(flashMembers)] },
          { sql: 'DELETE FROM contacts WHERE id = $1', params: [row.id] },
        ],
      },
    ]);
  }

  const kindOf = new Map<string, string>();
  const kinds: [string, string[]][] = [
    ['updatesSyncedField', real],
    ['updatesNothingSynced', silent],
    ['contactsUpdatedThreeTimes', multi],
    ['membershipsRemoved', leave],
    ['contactsDeleted', gone],
    ['badUpdates', commas],
  ];
  for (const [kind, ids] of kinds) for (const id of ids) kindOf.set(id, kind);
  return {
    groups: CRM_GROUPS,
    kindOf,
    seed: [seedTx],
    changes: rnd.shuffle(units).flat(),
    counts: {
      seedContacts: rows.length,
      seedMemberships: members.length,
      seedBadRecords: bad.length,
      updatesSyncedField: real.length,
      updatesNothingSynced: silent.length,
      contactsUpdatedThreeTimes: multi.length,
      membershipsRemoved: leave.length,
      contactsDeleted: gone.length,
      badUpdates: commas.length,
      newContacts: added.length,
      newBadRecords: 5,
      addedThenDeleted: flash,
    },
  };
}

/** Commits the transactions in order on one connection, as one CRM writer would. */
export async function runTransactions(
  client: pg.ClientBase,
  txs: readonly CrmTransaction[],
): Promise<void> {
  for (const tx of txs) {
    const [only] = tx.statements;
    if (tx.statements.length === 1 && only) {
      await client.query(only.sql, only.params);
      continue;
    }
    await client.query('BEGIN');
    try {
      for (const s of tx.statements) await client.query(s.sql, s.params);
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK');
      throw err;
    }
  }
}
