import type pg from 'pg';
import type { Logger } from '../observability/logger.ts';

/** How long each history is kept, in days (RETENTION_* settings). */
export interface RetentionSettings {
  deleteLogDays: number;
  holdsDays: number;
  resyncDays: number;
  /** Rows per DELETE: each batch is its own short transaction. */
  batchSize?: number;
}

/** Rows removed by one pruning pass, per table. */
export interface PruneCounts {
  deleteLog: number;
  holds: number;
  resyncRuns: number;
  resyncItems: number;
}

// Each statement deletes at most $2 rows, oldest first by id (ids grow with time, so the
// primary key finds the old rows without an index on the date), and commits on its own: a
// pass never holds locks or a snapshot for long, whatever the backlog.
const DELETE_LOG_SQL = `
DELETE FROM sync_delete_log WHERE id IN (
  SELECT id FROM sync_delete_log WHERE at < now() - $1 * interval '1 day' ORDER BY id LIMIT $2)`;

// Only holds that were approved: an open hold is a decision still waiting for an operator.
const HOLDS_SQL = `
DELETE FROM sync_holds WHERE id IN (
  SELECT id FROM sync_holds
  WHERE approved_at IS NOT NULL AND approved_at < now() - $1 * interval '1 day'
  ORDER BY id LIMIT $2)`;

// Finished runs only, and never one a group still waits to apply (sync_group_state.resync_run_id).
const OLD_RUNS_SQL = `
SELECT r.id FROM sync_resync_runs r
WHERE r.finished_at IS NOT NULL AND r.finished_at < now() - $1 * interval '1 day'
  AND NOT EXISTS (SELECT 1 FROM sync_group_state s WHERE s.resync_run_id = r.id)
ORDER BY r.id LIMIT 100`;

// A run's items go first, in batches: deleting the run would cascade to all of them at once.
const ITEMS_SQL = `
DELETE FROM sync_resync_items WHERE id IN (
  SELECT id FROM sync_resync_items WHERE run_id = $1 LIMIT $2)`;

const RUN_SQL = `
DELETE FROM sync_resync_runs r WHERE r.id = $1
  AND NOT EXISTS (SELECT 1 FROM sync_group_state s WHERE s.resync_run_id = r.id)`;

/** Runs `sql` until a batch deletes fewer than `batch` rows; returns the total. */
async function inBatches(
  pool: pg.Pool,
  sql: string,
  first: unknown,
  batch: number,
  signal?: AbortSignal,
): Promise<number> {
  let total = 0;
  for (;;) {
    if (signal?.aborted) return total;
    const n = (await pool.query(sql, [first, batch])).rowCount ?? 0;
    total += n;
    if (n < batch) return total;
  }
}

/**
 * One pruning pass over the daemon's history tables: the delete log, approved holds, finished
 * resync runs and their items, each older than its setting. Safe to run from several daemons
 * at once (they delete the same rows, or wait for each other's short transactions).
 */
export async function pruneHistory(
  pool: pg.Pool,
  settings: RetentionSettings,
  signal?: AbortSignal,
): Promise<PruneCounts> {
  const batch = settings.batchSize ?? 1_000;
  const counts: PruneCounts = { deleteLog: 0, holds: 0, resyncRuns: 0, resyncItems: 0 };
  counts.deleteLog = await inBatches(pool, DELETE_LOG_SQL, settings.deleteLogDays, batch, signal);
  counts.holds = await inBatches(pool, HOLDS_SQL, settings.holdsDays, batch, signal);
  for (;;) {
    const runs = await pool.query<{ id: string }>(OLD_RUNS_SQL, [settings.resyncDays]);
    for (const { id } of runs.rows) {
      counts.resyncItems += await inBatches(pool, ITEMS_SQL, id, batch, signal);
      if (signal?.aborted) return counts;
      counts.resyncRuns += (await pool.query(RUN_SQL, [id])).rowCount ?? 0;
    }
    if (runs.rows.length < 100) return counts;
  }
}

export interface RunningRetention {
  /** Stops the schedule; resolves when a pass under way has stopped between two batches. */
  stop(): Promise<void>;
}

/**
 * Prunes the history tables after `firstAfterMs`, then every `everyMs` (an hour by default).
 * A failed pass is logged and retried at the next one.
 */
export function startRetention(
  pool: pg.Pool,
  settings: RetentionSettings,
  logger: Logger,
  timing: { firstAfterMs?: number; everyMs?: number } = {},
): RunningRetention {
  const abort = new AbortController();
  let pass: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout;
  const run = () => {
    pass = pruneHistory(pool, settings, abort.signal).then(
      (counts) => {
        if (Object.values(counts).some((n) => n > 0)) logger.info({ counts }, 'history pruned');
      },
      (err: unknown) => logger.warn({ err }, 'history pruning failed; retrying at the next pass'),
    );
    void pass.finally(() => {
      if (!abort.signal.aborted) timer = setTimeout(run, timing.everyMs ?? 3_600_000).unref();
    });
  };
  timer = setTimeout(run, timing.firstAfterMs ?? 60_000).unref();
  return {
    async stop() {
      abort.abort();
      clearTimeout(timer);
      await pass;
    },
  };
}
