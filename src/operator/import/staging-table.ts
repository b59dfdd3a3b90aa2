import type pg from 'pg';
import type { ContactRecord } from './contact-record.ts';

/**
 * A temporary table: private to the import's session (two imports never mix), never WAL-logged,
 * gone if the process dies. Rows land here through COPY, then reach `contacts` in one statement.
 */
export const STAGING_TABLE = 'afilnet_import_staging';

export const CREATE_STAGING_SQL = `
DROP TABLE IF EXISTS pg_temp.${STAGING_TABLE};
CREATE TEMP TABLE ${STAGING_TABLE} (
  line bigint NOT NULL,
  id text NOT NULL,
  mobile text,
  email text,
  has_mobile boolean NOT NULL,
  has_email boolean NOT NULL,
  attributes jsonb NOT NULL,
  unset text[]
)`;

export const COPY_STAGING_SQL = `COPY ${STAGING_TABLE} (line, id, mobile, email, has_mobile, has_email, attributes, unset) FROM STDIN`;

/** COPY's text format: backslash, tab and line breaks are escaped; everything else is literal. */
const escapeCopy = (s: string): string =>
  /[\\\t\n\r]/.test(s)
    ? s.replace(/[\\\t\n\r]/g, (c) =>
        c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r',
      )
    : s;

/** A text[] literal: every element quoted, so commas, braces and spaces in names survive. */
const arrayLiteral = (items: string[]): string =>
  `{${items.map((s) => `"${s.replace(/["\\]/g, '\\$&')}"`).join(',')}}`;

/** One staging row in COPY text format, newline included. */
export function encodeStagingRow(line: number, r: ContactRecord): string {
  return (
    `${line}\t${escapeCopy(r.id)}\t${r.mobile ?? '\\N'}\t${r.email === null ? '\\N' : escapeCopy(r.email)}\t` +
    `${r.hasMobile ? 't' : 'f'}\t${r.hasEmail ? 't' : 'f'}\t${escapeCopy(JSON.stringify(r.attributes))}\t` +
    `${r.unset.length === 0 ? '\\N' : escapeCopy(arrayLiteral(r.unset))}\n`
  );
}

/**
 * Staged rows into `contacts`: the last row wins for an id given twice; a column the file lacks
 * keeps its stored value; attributes are merged (set ones replace, emptied ones are removed).
 * Rows whose result equals what is stored are filtered out before the INSERT: a re-import
 * writes nothing — no row version, no row lock (ON CONFLICT would lock every row it looks at,
 * dirtying every page), no capture trigger, no sync. The ON CONFLICT clause remains for a
 * contact inserted concurrently, with the same "only if different" rule.
 *
 * Cost: one sort (byte order, "C": equality is the same, comparisons far cheaper than a locale's)
 * serves the dedup, and its order mostly survives the join, so the insert walks the primary key
 * in order without a second sort.
 */
const UPSERT_SQL = `
WITH src AS (
  SELECT DISTINCT ON (id COLLATE "C") * FROM ${STAGING_TABLE} ORDER BY id COLLATE "C", line DESC
), merged AS (
  SELECT s.id, c.id IS NULL AS is_new,
         c.mobile AS old_mobile, c.email AS old_email, c.attributes AS old_attributes,
         CASE WHEN s.has_mobile THEN s.mobile ELSE c.mobile END AS mobile,
         CASE WHEN s.has_email THEN s.email ELSE c.email END AS email,
         (COALESCE(c.attributes, '{}'::jsonb) - COALESCE(s.unset, '{}'::text[])) || s.attributes AS attributes
  FROM src s LEFT JOIN contacts c ON c.id = s.id
), written AS (
  INSERT INTO contacts AS t (id, mobile, email, attributes)
  SELECT id, mobile, email, attributes FROM merged
  WHERE is_new OR (old_mobile, old_email, old_attributes) IS DISTINCT FROM (mobile, email, attributes)
  ON CONFLICT (id) DO UPDATE
    SET mobile = excluded.mobile, email = excluded.email, attributes = excluded.attributes
    WHERE (t.mobile, t.email, t.attributes) IS DISTINCT FROM (excluded.mobile, excluded.email, excluded.attributes)
  RETURNING (xmax = 0) AS inserted
)
SELECT (SELECT count(*) FROM src)::int AS distinct_ids,
       count(*) FILTER (WHERE inserted)::int AS inserted,
       count(*) FILTER (WHERE NOT inserted)::int AS updated
FROM written`;

const MEMBERS_SQL = `
INSERT INTO group_members (group_id, contact_id)
SELECT $1, id FROM (SELECT DISTINCT id FROM ${STAGING_TABLE}) s ORDER BY id
ON CONFLICT DO NOTHING`;

export interface ApplyCounts {
  distinctIds: number;
  inserted: number;
  updated: number;
  membersAdded: number;
}

/**
 * Applies the staged rows in one transaction: contacts, then (with a group) memberships, which
 * the capture triggers turn into sync work when the transaction commits.
 */
export async function applyStaged(
  client: pg.PoolClient,
  groupId: string | null,
): Promise<ApplyCounts> {
  await client.query('BEGIN');
  try {
    // A one-off statement: JIT compiling it costs more than it saves; sorts of a large file
    // stay in memory up to this much.
    await client.query(`SET LOCAL jit = off; SET LOCAL work_mem = '64MB'`);
    const res = await client.query<{ distinct_ids: number; inserted: number; updated: number }>(
      UPSERT_SQL,
    );
    const members = groupId === null ? null : await client.query(MEMBERS_SQL, [groupId]);
    await client.query('COMMIT');
    const row = res.rows[0];
    return {
      distinctIds: row?.distinct_ids ?? 0,
      inserted: row?.inserted ?? 0,
      updated: row?.updated ?? 0,
      membersAdded: members?.rowCount ?? 0,
    };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}
