import type pg from 'pg';
import { applyStaged, type ApplyCounts } from './apply-staged.ts';
import { STAGING_TABLE, type StagingTable } from './staging-table.ts';

/**
 * The most staged rows one transaction applies. A million-row file is applied as a hundred short
 * transactions rather than one long one: none holds row locks on `contacts` for minutes, the
 * relay sees the first changes while the rest are still applied, and vacuum is never held back
 * for the whole import.
 */
export const IMPORT_CHUNK_ROWS = 10_000;

export interface ChunkOptions {
  staging: StagingTable;
  groupId: string | null;
  /** Whether an id may be staged twice (IdHashes): only then are superseded rows removed. */
  maybeDuplicates: boolean;
  /** Good rows staged. */
  staged: number;
  chunkRows?: number;
  /** Called before each chunk with the rows applied so far. */
  onChunk?: (applied: number) => void;
}

const TABLE = `pg_temp.${STAGING_TABLE}`;

/**
 * A staged row whose id appears again later in the file is superseded (the last row wins): it
 * is removed before the file is cut into chunks, since two chunks could not see each other.
 */
const dropSupersededSql = (staging: StagingTable) => `
DELETE FROM ${TABLE} WHERE line IN (
  SELECT line FROM (
    SELECT line, row_number() OVER (PARTITION BY id COLLATE "C" ORDER BY line DESC) AS later
    FROM (${staging.source()}) s) ranked
  WHERE later > 1)`;

/** The rows of one chunk, under the staging table's own name so its `source` reads them. */
const chunkFrom = (lo: number, hi: number) =>
  `(SELECT * FROM ${TABLE} WHERE line >= ${lo} AND line < ${hi}) AS ${STAGING_TABLE}`;

/**
 * Applies the staged rows in transactions of at most `chunkRows` rows each (by line number), each
 * committed before the next begins. A failure rolls back its own chunk only; the chunks before it
 * stay applied, and running the import again converges: rows already applied are unchanged, so
 * they are skipped without a write (see applyStaged).
 */
export async function applyInChunks(client: pg.PoolClient, o: ChunkOptions): Promise<ApplyCounts> {
  const chunkRows = o.chunkRows ?? IMPORT_CHUNK_ROWS;
  const duplicates = o.maybeDuplicates
    ? ((await client.query(dropSupersededSql(o.staging))).rowCount ?? 0)
    : 0;
  // Each chunk reads its line range through this index instead of scanning the whole table.
  await client.query(`CREATE INDEX ON ${TABLE} (line); ANALYZE ${TABLE}`);
  const range = await client.query<{ lo: string | null; hi: string | null }>(
    `SELECT min(line) AS lo, max(line) AS hi FROM ${TABLE}`,
  );
  const total: ApplyCounts = {
    distinctIds: o.staged - duplicates,
    inserted: 0,
    updated: 0,
    membersAdded: 0,
  };
  const first = Number(range.rows[0]?.lo ?? 1);
  const last = Number(range.rows[0]?.hi ?? 0);
  for (let lo = first; lo <= last; lo += chunkRows) {
    o.onChunk?.(total.inserted + total.updated);
    const hi = lo + chunkRows;
    await client.query('BEGIN');
    try {
      const counts = await applyStaged(client, {
        // The chunk whatever applyStaged asks for: its probe for stored contacts (a sample of
        // the file, when given the whole file) then looks at every row of the chunk, exactly.
        source: () => o.staging.source(chunkFrom(lo, hi)),
        groupId: o.groupId,
        maybeDuplicates: false,
        staged: Math.min(chunkRows, o.staged),
      });
      await client.query('COMMIT');
      total.inserted += counts.inserted;
      total.updated += counts.updated;
      total.membersAdded += counts.membersAdded;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  }
  return total;
}
