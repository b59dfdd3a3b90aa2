import type pg from 'pg';
import { STAGING_TABLE, type StagingTable } from './staging-table.ts';

export interface ApplyOptions {
  /** The staged rows in the import's common shape. */
  source: StagingTable['source'];
  groupId: string | null;
  /** Whether an id may be staged twice (IdHashes): only then is the sort that dedups paid. */
  maybeDuplicates: boolean;
  /** Rows staged: the distinct ids, when there are no duplicates. */
  staged: number;
}

export interface ApplyCounts {
  distinctIds: number;
  inserted: number;
  updated: number;
  membersAdded: number;
}

/** The last row wins for an id given twice (byte order: equality is the same, sorting cheaper). */
const sourceSql = (o: ApplyOptions): string =>
  o.maybeDuplicates
    ? `SELECT DISTINCT ON (id COLLATE "C") * FROM (${o.source()}) staged
  ORDER BY id COLLATE "C", line DESC`
    : o.source();

const distinctIds = (o: ApplyOptions) =>
  o.maybeDuplicates ? '(SELECT count(*) FROM src)::int' : 'NULL::int';

/**
 * Each staged row against the stored contact: a column the file lacks keeps its stored value;
 * attributes are merged (set ones replace, emptied ones are removed). Rows whose result equals
 * what is stored are dropped here, before any write: a re-import writes nothing — no row
 * version, no row lock, no capture trigger, no sync.
 */
const MERGED = `
  SELECT s.id, c.id IS NOT NULL AS present,
         CASE WHEN s.has_mobile THEN s.mobile ELSE c.mobile END AS mobile,
         CASE WHEN s.has_email THEN s.email ELSE c.email END AS email,
         (COALESCE(c.attributes, '{}'::jsonb) - s.unset) || s.attributes AS attributes,
         c.mobile AS old_mobile, c.email AS old_email,
         -- The merge leaves the stored attributes as they are (set values are scalars).
         c.attributes @> s.attributes AND NOT c.attributes ?| s.unset AS same_attributes
  FROM src s LEFT JOIN contacts c ON c.id = s.id`;
const CHANGED = `NOT present
    OR (old_mobile, old_email) IS DISTINCT FROM (mobile, email) OR NOT same_attributes`;
const DIFFERS = (t: string, n: string) =>
  `(${t}.mobile, ${t}.email, ${t}.attributes) IS DISTINCT FROM (${n}.mobile, ${n}.email, ${n}.attributes)`;

/**
 * Contacts none of which is stored yet (an initial load, or a file of new contacts): no join,
 * no merge (a new contact's values are the file's), a plain INSERT. A contact already stored
 * fails it with a unique violation, and the merge runs instead.
 */
const insertOnlySql = (o: ApplyOptions) => `
INSERT INTO contacts (id, mobile, email, attributes)
SELECT id, mobile, email, attributes FROM (${sourceSql(o)}) src`;

/**
 * The merge, in one statement: one join with `contacts`, then a plain UPDATE of the stored
 * contacts that change and a plain INSERT of the new ones. A plain INSERT costs far less than
 * INSERT … ON CONFLICT, whose speculative insertion writes and confirms each row. It is right
 * only if nobody else wrote these contacts meanwhile: a contact inserted concurrently fails it
 * (unique violation), one changed or deleted concurrently leaves `updated` short of `expected`.
 */
const mergeSql = (o: ApplyOptions) => `
WITH src AS (${sourceSql(o)}),
merged AS (${MERGED}),
todo AS MATERIALIZED (
  SELECT id, present, mobile, email, attributes FROM merged WHERE ${CHANGED}
), updated AS (
  UPDATE contacts t SET mobile = d.mobile, email = d.email, attributes = d.attributes
  FROM todo d WHERE d.present AND t.id = d.id AND ${DIFFERS('t', 'd')}
  RETURNING 1
), inserted AS (
  INSERT INTO contacts (id, mobile, email, attributes)
  SELECT id, mobile, email, attributes FROM todo WHERE NOT present
  RETURNING 1
)
SELECT (SELECT count(*) FROM inserted)::int AS inserted,
       (SELECT count(*) FROM updated)::int AS updated,
       (SELECT count(*) FROM todo WHERE present)::int AS expected,
       ${distinctIds(o)} AS distinct_ids`;

/**
 * The last resort, right whatever runs concurrently: the merge through INSERT … ON CONFLICT,
 * with the same "only if different" rule for a contact that appeared meanwhile.
 */
const upsertSql = (o: ApplyOptions) => `
WITH src AS (${sourceSql(o)}),
merged AS (${MERGED}),
written AS (
  INSERT INTO contacts AS t (id, mobile, email, attributes)
  SELECT id, mobile, email, attributes FROM merged WHERE ${CHANGED}
  ON CONFLICT (id) DO UPDATE
    SET mobile = excluded.mobile, email = excluded.email, attributes = excluded.attributes
    WHERE ${DIFFERS('t', 'excluded')}
  RETURNING (xmax = 0) AS inserted
)
SELECT count(*) FILTER (WHERE inserted)::int AS inserted,
       count(*) FILTER (WHERE NOT inserted)::int AS updated,
       count(*) FILTER (WHERE NOT inserted)::int AS expected,
       ${distinctIds(o)} AS distinct_ids
FROM written`;

/** About this many staged ids are looked up to guess whether any contact is stored already. */
const PROBE_ROWS = 20_000;

/**
 * Whether a sample of the staged ids (all of them for a small file) has none stored. A miss
 * (stored contacts the sample skipped) costs the insert-only attempt, rolled back.
 */
const noneStoredSql = (o: ApplyOptions) => {
  const pct = Math.min(100, Math.max(1, (100 * PROBE_ROWS) / Math.max(o.staged, 1)));
  return `SELECT NOT EXISTS (
  SELECT 1 FROM (${o.source(`${STAGING_TABLE} TABLESAMPLE SYSTEM (${pct.toFixed(3)})`)}) s
  JOIN contacts c ON c.id = s.id) AS none`;
};

const membersSql = (o: ApplyOptions) => `
INSERT INTO group_members (group_id, contact_id)
SELECT $1, id FROM (SELECT ${o.maybeDuplicates ? 'DISTINCT' : ''} id FROM (${o.source()}) staged) s
ORDER BY id COLLATE "C"
ON CONFLICT DO NOTHING`;

interface Row {
  inserted: number;
  updated: number;
  expected: number;
  distinct_ids: number | null;
}

type Attempt = (client: pg.PoolClient, o: ApplyOptions) => Promise<Row | undefined>;

const counted =
  (sql: (o: ApplyOptions) => string): Attempt =>
  async (client, o) =>
    (await client.query<Row>(sql(o))).rows[0];

const insertOnly: Attempt = async (client, o) => {
  // Every row inserted is a distinct id: counted by the command tag, not RETURNING rows.
  const inserted = (await client.query(insertOnlySql(o))).rowCount ?? 0;
  return { inserted, updated: 0, expected: 0, distinct_ids: inserted };
};

const UNIQUE_VIOLATION = '23505';
const SAVEPOINT = 'afilnet_import_attempt';

/**
 * Applies the staged rows, inside the caller's transaction: contacts, then (with a group)
 * memberships, which the capture triggers turn into sync work when the transaction commits.
 * Contacts go in by the cheapest statement that can be right, each attempt under a savepoint:
 * insert-only when no staged contact seems stored, else the plain merge, else the upsert.
 */
export async function applyStaged(client: pg.PoolClient, o: ApplyOptions): Promise<ApplyCounts> {
  // One-off statements: JIT compiling them costs more than it saves. The rows to write of a
  // large file (and its dedup sort) stay in memory up to this much.
  await client.query(`SET LOCAL jit = off; SET LOCAL work_mem = '64MB'`);
  const probe = await client.query<{ none: boolean }>(noneStoredSql(o));
  const attempts = [counted(mergeSql), counted(upsertSql)];
  if (probe.rows[0]?.none === true) attempts.unshift(insertOnly);
  let row: Row | undefined;
  for (const [i, attempt] of attempts.entries()) {
    if (i === attempts.length - 1) {
      row = await attempt(client, o);
      break;
    }
    await client.query(`SAVEPOINT ${SAVEPOINT}`);
    const done = await attempt(client, o).catch((err: { code?: unknown }) => {
      if (err.code !== UNIQUE_VIOLATION) throw err;
      return undefined;
    });
    // Short of `expected`: a contact changed or vanished meanwhile; the next attempt redoes it.
    if (done !== undefined && done.updated === done.expected) {
      await client.query(`RELEASE SAVEPOINT ${SAVEPOINT}`);
      row = done;
      break;
    }
    await client.query(`ROLLBACK TO SAVEPOINT ${SAVEPOINT}`);
  }
  const members = o.groupId === null ? null : await client.query(membersSql(o), [o.groupId]);
  return {
    distinctIds: row?.distinct_ids ?? o.staged,
    inserted: row?.inserted ?? 0,
    updated: row?.updated ?? 0,
    membersAdded: members?.rowCount ?? 0,
  };
}
