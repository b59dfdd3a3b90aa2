import type pg from 'pg';
import { clearResyncRequest } from '../state/group-state.ts';
import { correctSlice, recordResyncedColumns } from '../state/resync-corrections.ts';
import { patchGroupProgress } from './resync-store.ts';

/**
 * The most members whose corrections one transaction applies. A million-member group is
 * corrected in a hundred short transactions rather than one: none holds row locks the worker and
 * the relay need for long, vacuum is not held back for the whole group, and a failure loses one
 * slice's work, not the group's.
 */
export const CORRECTION_CHUNK = 10_000;

export interface CorrectionTarget {
  runId: string;
  groupId: string;
  /** The remote group's columns, recorded as the group's once every member is corrected. */
  columns: readonly string[];
  /** Most members per transaction; CORRECTION_CHUNK unless a test asks for smaller ones. */
  chunk?: number | undefined;
  /** Called after each committed slice with how many slices are committed (tests fail here). */
  afterChunk?: ((committed: number) => Promise<void> | void) | undefined;
}

/** The next slice: up to `size` distinct contact ids after `after` (all, when null). */
const NEXT_SLICE_SQL = `
SELECT min(contact_id) AS first, max(contact_id) AS last, count(*)::int AS n FROM (
  SELECT DISTINCT contact_id FROM resync_diff
  WHERE $1::text IS NULL OR contact_id > $1::text
  ORDER BY contact_id LIMIT $2) s`;

interface SliceRow {
  first: string | null;
  last: string | null;
  n: number;
}

/**
 * Corrects the sync state from the committed plan's diff, slice by slice, then records the
 * group's columns and clears the request in one last transaction: only once every slice has
 * committed does the run say the group is being applied. Returns how many members were marked.
 */
export async function applyPlan(conn: pg.PoolClient, target: CorrectionTarget): Promise<number> {
  const { runId, groupId } = target;
  const marked = await applyCorrections(conn, target);
  await conn.query('BEGIN');
  try {
    await recordResyncedColumns(conn, groupId, target.columns);
    await clearResyncRequest(conn, groupId, runId);
    await conn.query(
      `UPDATE sync_resync_runs SET status = 'applying' WHERE id = $1 AND status = 'planning'`,
      [runId],
    );
    await patchGroupProgress(conn, runId, groupId, {
      phase: 'applying',
      total: marked,
      remaining: marked,
    });
    await conn.query('COMMIT');
  } catch (err) {
    await conn.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
  return marked;
}

/**
 * Applies the session's `resync_diff` (kept past the plan's commit) to the group's sync state in
 * transactions of at most `chunk` members each, keyset-paged by contact id, each committed before
 * the next begins; the progress of the group (total, remaining) moves on with each commit.
 * Returns how many members were marked for the worker. A failure leaves the slices before it
 * applied: the group's request is not cleared yet, so its next run reads the remote
 * group again and corrects from there (each slice only ever sets state to what a read said).
 */
async function applyCorrections(conn: pg.PoolClient, target: CorrectionTarget): Promise<number> {
  const { runId, groupId } = target;
  const size = Math.max(1, target.chunk ?? CORRECTION_CHUNK);
  // Each slice is found through this index rather than a scan of the whole diff.
  await conn.query('CREATE INDEX ON resync_diff (contact_id)');
  await conn.query('ANALYZE resync_diff');
  const count = await conn.query<{ n: number }>(
    'SELECT count(DISTINCT contact_id)::int AS n FROM resync_diff',
  );
  const total = count.rows[0]?.n ?? 0;
  let after: string | null = null;
  let corrected = 0;
  let marked = 0;
  for (let committed = 1; ; committed++) {
    const next: pg.QueryResult<SliceRow> = await conn.query<SliceRow>(NEXT_SLICE_SQL, [
      after,
      size,
    ]);
    const { first, last, n } = next.rows[0] ?? { first: null, last: null, n: 0 };
    if (first === null || last === null) break;
    await conn.query('BEGIN');
    try {
      marked += await correctSlice(conn, groupId, runId, { first, last });
      corrected += n;
      // Written last, so the run row is locked only for the commit that follows.
      await patchGroupProgress(conn, runId, groupId, { total, remaining: total - corrected });
      await conn.query('COMMIT');
    } catch (err) {
      await conn.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
    after = last;
    await target.afterChunk?.(committed);
  }
  return marked;
}
