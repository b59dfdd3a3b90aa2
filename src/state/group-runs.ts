import type { Queryable } from './queryable.ts';

/** How a group run ended. */
export type RunOutcome = 'done' | 'more' | 'retry' | 'account-refused' | 'failed' | 'shadow';

/** One recorded run of a group. */
export interface GroupRun {
  startedAt: string;
  finishedAt: string;
  outcome: RunOutcome;
  /** Member calls by method (a shadow run's: the calls it would have made). */
  calls: Record<string, number>;
  synced: number;
  failed: number;
  error: string | null;
}

/** Runs kept per group; older ones are deleted as each new run is recorded. */
export const RUNS_KEPT = 50;

/**
 * Records a finished run and drops the group's runs beyond the last RUNS_KEPT, in one statement
 * (the history stays bounded without a separate pruning pass).
 */
export async function recordGroupRun(
  db: Queryable,
  groupId: string,
  run: Omit<GroupRun, 'finishedAt'>,
): Promise<void> {
  await db.query(
    `WITH added AS (
       INSERT INTO sync_group_runs (group_id, started_at, outcome, calls, synced, failed, error)
       VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id)
     DELETE FROM sync_group_runs WHERE group_id = $1 AND id < (
       SELECT min(id) FROM (SELECT id FROM sync_group_runs WHERE group_id = $1
                            ORDER BY id DESC LIMIT $8 - 1) last)`,
    [groupId, run.startedAt, run.outcome, run.calls, run.synced, run.failed, run.error, RUNS_KEPT],
  );
}

/** A group's last runs, newest first. */
export async function readGroupRuns(
  db: Queryable,
  groupId: string,
  limit = RUNS_KEPT,
): Promise<GroupRun[]> {
  const res = await db.query<{
    started_at: Date;
    finished_at: Date;
    outcome: RunOutcome;
    calls: Record<string, number>;
    synced: number;
    failed: number;
    error: string | null;
  }>(
    `SELECT started_at, finished_at, outcome, calls, synced, failed, error FROM sync_group_runs
     WHERE group_id = $1 ORDER BY id DESC LIMIT $2`,
    [groupId, limit],
  );
  return res.rows.map((r) => ({
    startedAt: r.started_at.toISOString(),
    finishedAt: r.finished_at.toISOString(),
    outcome: r.outcome,
    calls: r.calls,
    synced: r.synced,
    failed: r.failed,
    error: r.error,
  }));
}
