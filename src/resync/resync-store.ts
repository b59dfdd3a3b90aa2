import type pg from 'pg';
import {
  runRowSchema,
  type GroupProgress,
  type KindCounts,
  type ResyncItem,
  type ResyncKind,
  type ResyncRun,
} from './resync-types.ts';

/** A pool, or a client inside a transaction: both can run the statements below. */
type Queryable = Pick<pg.Pool, 'query'> | Pick<pg.PoolClient, 'query'>;

/** Records a new run; its groups start `queued`. */
export async function createRun(
  db: Queryable,
  run: { startedBy: string; dryRun: boolean; groupIds: string[] },
): Promise<string> {
  const progress = Object.fromEntries(run.groupIds.map((g) => [g, { phase: 'queued' }]));
  const res = await db.query<{ id: string }>(
    `INSERT INTO sync_resync_runs (started_by, dry_run, group_ids, progress)
     VALUES ($1, $2, $3, $4) RETURNING id::text AS id`,
    [run.startedBy, run.dryRun, run.groupIds, JSON.stringify(progress)],
  );
  const id = res.rows[0]?.id;
  if (id === undefined) throw new Error('INSERT … RETURNING gave no row');
  return id;
}

/** The run, or null when there is no such run. */
export async function readRun(db: Queryable, runId: string): Promise<ResyncRun | null> {
  const res = await db.query(
    `SELECT id::text AS id, started_at, started_by, dry_run, group_ids, status, counts, applied,
            progress, error, finished_at
     FROM sync_resync_runs WHERE id = $1`,
    [runId],
  );
  if (res.rows.length === 0) return null;
  const r = runRowSchema.parse(res.rows[0]);
  return {
    id: r.id,
    startedAt: r.started_at,
    startedBy: r.started_by,
    dryRun: r.dry_run,
    groupIds: r.group_ids,
    status: r.status,
    counts: r.counts,
    applied: r.applied,
    progress: r.progress,
    error: r.error,
    finishedAt: r.finished_at,
  };
}

/**
 * Merges a group's progress into the run in one statement, so the worker and a following CLI
 * never overwrite each other's writes with a stale copy.
 */
export async function patchGroupProgress(
  db: Queryable,
  runId: string,
  groupId: string,
  patch: Partial<GroupProgress>,
): Promise<void> {
  await db.query(
    `UPDATE sync_resync_runs
        SET progress = progress || jsonb_build_object($2::text,
                         COALESCE(progress -> $2::text, '{}'::jsonb) || $3::jsonb)
      WHERE id = $1`,
    [runId, groupId, JSON.stringify(patch)],
  );
}

/** Stores a group's planned counts. */
export async function setGroupCounts(
  db: Queryable,
  runId: string,
  groupId: string,
  counts: KindCounts,
): Promise<void> {
  await db.query(
    `UPDATE sync_resync_runs SET counts = counts || jsonb_build_object($2::text, $3::jsonb)
      WHERE id = $1`,
    [runId, groupId, JSON.stringify(counts)],
  );
}

/** Appends an error line to the run (one per failed group), keeping earlier ones. */
export async function appendRunError(db: Queryable, runId: string, line: string): Promise<void> {
  await db.query(
    `UPDATE sync_resync_runs SET error = CASE WHEN error IS NULL THEN $2 ELSE error || E'\\n' || $2 END
      WHERE id = $1`,
    [runId, line],
  );
}

/** Ends a run that never reached its workers (a dry run, or a request that failed). */
export async function finishRun(
  db: Queryable,
  runId: string,
  status: 'planned' | 'failed' | 'done',
): Promise<void> {
  await db.query('UPDATE sync_resync_runs SET status = $2, finished_at = now() WHERE id = $1', [
    runId,
    status,
  ]);
}

/** Counts of a group's items by kind, straight from the items table. */
export async function countItems(
  db: Queryable,
  runId: string,
  groupId: string,
): Promise<KindCounts> {
  const res = await db.query<{ kind: ResyncKind; n: number }>(
    `SELECT kind, count(*)::int AS n FROM sync_resync_items
      WHERE run_id = $1 AND group_id = $2 GROUP BY kind ORDER BY kind`,
    [runId, groupId],
  );
  return Object.fromEntries(res.rows.map((r) => [r.kind, r.n]));
}

/** Up to `perKind` items of each kind of a group, lowest id first: the report's examples. */
export async function exampleItems(
  db: Queryable,
  runId: string,
  groupId: string,
  perKind: number,
): Promise<ResyncItem[]> {
  const res = await db.query<{
    group_id: string;
    kind: ResyncKind;
    contact_id: string | null;
    remote_id: string | null;
    main_value: string | null;
    detail: unknown;
  }>(
    `SELECT group_id, kind, contact_id, remote_id, main_value, detail FROM (
       SELECT i.*, row_number() OVER (PARTITION BY kind ORDER BY id) AS n
       FROM sync_resync_items i WHERE run_id = $1 AND group_id = $2) x
     WHERE n <= $3 ORDER BY kind, id`,
    [runId, groupId, perKind],
  );
  return res.rows.map((r) => ({
    groupId: r.group_id,
    kind: r.kind,
    contactId: r.contact_id,
    remoteId: r.remote_id,
    mainValue: r.main_value,
    detail: r.detail,
  }));
}
