import type { Queryable } from './queryable.ts';

/**
 * Segment groups (`groups.segment`): their members are the contacts the filter matches. The
 * membership is materialised in `group_members` by the migration's functions, so the capture
 * triggers turn every member entering or leaving into the same dirty marks, guard checks and
 * resync treatment as a membership written by a CRM. This module is the daemon's one door to
 * those functions and to `sync_segment_state`.
 */

/**
 * Re-evaluates every segment for contacts that changed (or were inserted): one statement per
 * segment, in the caller's transaction (the relay's claim). A filter failing at run time is
 * recorded on its group and does not fail the claim. Returns memberships added plus removed.
 */
export async function applySegmentsToContacts(
  db: Queryable,
  contactIds: readonly string[],
): Promise<number> {
  if (contactIds.length === 0) return 0;
  const res = await db.query<{ n: number }>('SELECT sync_segment_apply_contacts($1::text[]) AS n', [
    contactIds,
  ]);
  return res.rows[0]?.n ?? 0;
}

export interface SegmentEvaluation {
  size: number;
  entered: number;
  left: number;
}

/**
 * Evaluates one segment group whole as one diff, in the caller's transaction (which should bound
 * it with statement_timeout). Null when the group has no segment (any more).
 */
export async function evaluateSegmentGroup(
  db: Queryable,
  groupId: string,
): Promise<SegmentEvaluation | null> {
  const res = await db.query<{ size: number | null; entered: number; gone: number }>(
    'SELECT size, entered, gone FROM sync_segment_evaluate($1)',
    [groupId],
  );
  const row = res.rows[0];
  if (!row || row.size === null) return null;
  return { size: row.size, entered: row.entered, left: row.gone };
}

/** Records why a whole evaluation failed (its transaction rolled back), for status. */
export async function recordSegmentError(
  db: Queryable,
  groupId: string,
  message: string,
): Promise<void> {
  await db.query(
    `INSERT INTO sync_segment_state AS s (group_id, error, error_at) VALUES ($1, $2, now())
     ON CONFLICT (group_id) DO UPDATE SET error = excluded.error, error_at = now()`,
    [groupId, message],
  );
}

/**
 * Segment groups to evaluate whole: never evaluated, edited since (the filter differs from the
 * one last evaluated), time-dependent and older than `refreshMs`, or named in `forced` (an edit
 * the relay just claimed). A group that failed is retried after `refreshMs`, or when edited.
 */
export async function dueSegmentGroups(
  db: Queryable,
  refreshMs: number,
  forced: readonly string[],
): Promise<string[]> {
  const res = await db.query<{ id: string }>(
    `SELECT g.id FROM groups g LEFT JOIN sync_segment_state s ON s.group_id = g.id
     WHERE g.segment IS NOT NULL AND (
       g.id = ANY($2::text[])
       OR ((s.error_at IS NULL OR s.error_at < now() - $1 * interval '1 millisecond') AND (
         s.evaluated_at IS NULL OR s.expression IS DISTINCT FROM g.segment
         OR (s.time_dependent AND s.evaluated_at < now() - $1 * interval '1 millisecond'))))
     ORDER BY g.id`,
    [refreshMs, forced],
  );
  return res.rows.map((r) => r.id);
}

/** Forgets the evaluation of groups deleted or no longer defined by a segment. */
export async function dropStaleSegmentStates(db: Queryable): Promise<number> {
  const res = await db.query(
    `DELETE FROM sync_segment_state s WHERE NOT EXISTS (
       SELECT 1 FROM groups g WHERE g.id = s.group_id AND g.segment IS NOT NULL)`,
  );
  return res.rowCount ?? 0;
}

/** The one statement that confines segment filters, for a superuser to run in the database. */
export const CONFINE_SEGMENTS_SQL = 'SELECT sync_segment_confine();';

/**
 * Null when segment filters run as the least-privileged role `afilnet_segment` (the migration set
 * it up); otherwise what is wrong and the SQL that fixes it. Unconfined filters run with the
 * daemon's privileges: a CRM function or view they use could read afilnet-sync's tables.
 */
export async function segmentConfinementProblem(db: Queryable): Promise<string | null> {
  const res = await db.query<{ confined: boolean }>('SELECT sync_segment_confined() AS confined');
  if (res.rows[0]?.confined === true) return null;
  return (
    "segment filters run unconfined, with afilnet-sync's own privileges (the migration could " +
    'not create or grant the role afilnet_segment); to confine them, a superuser runs in this ' +
    `database: ${CONFINE_SEGMENTS_SQL}`
  );
}
