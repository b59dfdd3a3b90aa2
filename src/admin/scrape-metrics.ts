import type { JobType, Queue } from 'bullmq';
import type pg from 'pg';
import { Counter, Gauge, Registry } from 'prom-client';
import type { Logger } from '../observability/logger.ts';
import { withTimeout } from './with-timeout.ts';

/** Queue states reported by afilnet_sync_queue_jobs; `completed` is capped by removal, so left out. */
export const QUEUE_STATES: JobType[] = ['waiting', 'prioritized', 'delayed', 'active', 'failed'];

export interface ScrapeMetricsDeps {
  pool: pg.Pool;
  queue: Queue;
  /** The daemon's registry: served together with the gauges made here. */
  registry: Registry;
  /** The account-wide allowed call rate, read at scrape time. */
  allowedRate: () => Promise<number>;
  /** The daemon's own allowed-rate gauge, brought up to date at each scrape. */
  allowedRateGauge: Gauge;
  /** Whether Afilnet refuses every call of the account now (the account pause), read at scrape time. */
  accountPaused?: () => Promise<boolean>;
  logger: Logger;
}

/** Renders the daemon's metrics plus state read from Postgres and Redis at the moment of the scrape. */
export interface ScrapeMetrics {
  contentType: string;
  render(): Promise<string>;
}

// Below Prometheus' default 10 s scrape timeout, so the rest of the answer still arrives.
const SCRAPE_TIMEOUT_MS = 5_000;

interface DatabaseCounts {
  outbox_rows: string;
  outbox_lag_seconds: number | null;
  oldest_unsynced_seconds: number | null;
  live_marks: string;
  bulk_marks: string;
  dirty_groups: string;
  failed: string;
}

// The oldest dirty mark, through the (group_id, bulk, seq) index whatever the planner believes:
// a loose index scan visits each group with marks once, and in each (group, bulk) the first mark
// by seq is the oldest (seq and marked_at are set together, so to within one relay transaction).
// The cost grows with the groups that have marks, not with the marks or the members.
const OLDEST_UNSYNCED = `
WITH RECURSIVE marked AS (
  (SELECT group_id FROM sync_dirty ORDER BY group_id LIMIT 1)
  UNION ALL
  SELECT (SELECT d.group_id FROM sync_dirty d WHERE d.group_id > m.group_id ORDER BY d.group_id LIMIT 1)
  FROM marked m WHERE m.group_id IS NOT NULL)
SELECT extract(epoch FROM now() - min(first.marked_at))::float8
FROM marked m CROSS JOIN (VALUES (false), (true)) AS b(bulk)
CROSS JOIN LATERAL (SELECT d.marked_at FROM sync_dirty d
                    WHERE d.group_id = m.group_id AND d.bulk = b.bulk ORDER BY d.seq LIMIT 1) first
WHERE m.group_id IS NOT NULL`;

// One round trip for everything Postgres knows, and nothing in it reads a table in proportion to
// the members: the outbox and the dirty marks are backlog (emptied as the sync catches up), failed
// members are read through sync_member_state's status index. How many members are synced is a
// count of the whole table, so it is left to `status` and GET /status.
const DATABASE_COUNTS = `
SELECT (SELECT count(*) FROM sync_outbox) AS outbox_rows,
       (SELECT extract(epoch FROM now() - min(created_at))::float8 FROM sync_outbox) AS outbox_lag_seconds,
       (${OLDEST_UNSYNCED}) AS oldest_unsynced_seconds,
       (SELECT count(*) FROM sync_dirty WHERE NOT bulk) AS live_marks,
       (SELECT count(*) FROM sync_dirty WHERE bulk) AS bulk_marks,
       (SELECT count(*) FROM sync_group_state WHERE dirty) AS dirty_groups,
       (SELECT count(*) FROM sync_member_state WHERE status = 'failed') AS failed`;

const HELD = `SELECT kind, COALESCE(sum(count), 0)::int AS n FROM sync_holds
              WHERE approved_at IS NULL GROUP BY kind`;

/** Every query a scrape sends (tests check their plans). */
export const SCRAPE_SQL = [DATABASE_COUNTS, HELD] as const;

/**
 * Gauges computed when Prometheus scrapes: queue depths by state, outbox lag, the age of the
 * oldest unsynced change, dirty marks, pending and failed members, held deletes, and the allowed
 * rate. They live on a registry of their own, merged with
 * the daemon's for rendering. A source that cannot be read is counted in
 * afilnet_sync_scrape_errors_total and its gauges are dropped, rather than served stale.
 */
export function createScrapeMetrics(deps: ScrapeMetricsDeps): ScrapeMetrics {
  const own = new Registry();
  const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[] = []) =>
    new Gauge<L>({ name, help, labelNames, registers: [own] });
  const queueJobs = gauge('afilnet_sync_queue_jobs', 'Jobs in the group-sync queue by state', [
    'state',
  ] as const);
  const outboxRows = gauge('afilnet_sync_outbox_rows', 'Captured changes not yet relayed');
  const outboxLag = gauge(
    'afilnet_sync_outbox_lag_seconds',
    'Age of the oldest sync_outbox row (0 when empty): how far capture is behind',
  );
  const dirtyMarks = gauge('afilnet_sync_dirty_marks', 'Members marked for sync by priority', [
    'priority',
  ] as const);
  const dirtyGroups = gauge(
    'afilnet_sync_dirty_groups',
    'Groups whose row changed, not yet synced',
  );
  const oldestUnsynced = gauge(
    'afilnet_sync_oldest_unsynced_change_age_seconds',
    'Age of the oldest change not yet synced (the oldest dirty mark; 0 when all is synced)',
  );
  const members = gauge(
    'afilnet_sync_members',
    'Members by state: pending = has a dirty mark (including removals), failed = last attempt failed',
    ['state'] as const,
  );
  const heldDeletes = gauge(
    'afilnet_sync_held_deletes',
    'Deletes held by the mass-deletion guard, awaiting approval',
    ['kind'] as const,
  );
  const accountPaused = gauge(
    'afilnet_sync_account_paused',
    '1 while Afilnet refuses every call of the account (wrong password, no credit): sync is paused and probing',
  );
  const scrapeErrors = new Counter({
    name: 'afilnet_sync_scrape_errors_total',
    help: 'Scrape-time reads that failed, by source',
    labelNames: ['source'] as const,
    registers: [own],
  });
  const merged = Registry.merge([deps.registry, own]);

  async function readDatabase(): Promise<void> {
    try {
      const [counts, held] = await withTimeout(
        Promise.all([
          deps.pool.query<DatabaseCounts>(DATABASE_COUNTS),
          deps.pool.query<{ kind: string; n: number }>(HELD),
        ]),
        SCRAPE_TIMEOUT_MS,
        'Postgres',
      );
      const c = counts.rows[0];
      if (!c) throw new Error('no row');
      outboxRows.set(Number(c.outbox_rows));
      outboxLag.set(Math.max(0, c.outbox_lag_seconds ?? 0));
      oldestUnsynced.set(Math.max(0, c.oldest_unsynced_seconds ?? 0));
      dirtyMarks.set({ priority: 'live' }, Number(c.live_marks));
      dirtyMarks.set({ priority: 'bulk' }, Number(c.bulk_marks));
      dirtyGroups.set(Number(c.dirty_groups));
      members.set({ state: 'failed' }, Number(c.failed));
      members.set({ state: 'pending' }, Number(c.live_marks) + Number(c.bulk_marks));
      heldDeletes.reset();
      for (const kind of ['deletes', 'deletegroup']) heldDeletes.set({ kind }, 0);
      for (const row of held.rows) heldDeletes.set({ kind: row.kind }, row.n);
    } catch (err) {
      scrapeErrors.inc({ source: 'postgres' });
      deps.logger.warn({ err }, 'metrics scrape could not read Postgres');
      const read = [outboxRows, outboxLag, oldestUnsynced, dirtyMarks, dirtyGroups, members];
      for (const g of [...read, heldDeletes]) {
        g.reset();
      }
    }
  }

  async function readQueue(): Promise<void> {
    try {
      const counts = await withTimeout(
        deps.queue.getJobCounts(...QUEUE_STATES),
        SCRAPE_TIMEOUT_MS,
        'Redis',
      );
      for (const state of QUEUE_STATES) queueJobs.set({ state }, counts[state] ?? 0);
    } catch (err) {
      scrapeErrors.inc({ source: 'redis' });
      deps.logger.warn({ err }, 'metrics scrape could not read the queue');
      queueJobs.reset();
    }
  }

  async function readRate(): Promise<void> {
    try {
      deps.allowedRateGauge.set(await withTimeout(deps.allowedRate(), SCRAPE_TIMEOUT_MS, 'Redis'));
      if (deps.accountPaused) {
        const paused = await withTimeout(deps.accountPaused(), SCRAPE_TIMEOUT_MS, 'Redis');
        accountPaused.set(paused ? 1 : 0);
      }
    } catch (err) {
      // The gauge keeps the rate the last API call saw: still true for this process.
      scrapeErrors.inc({ source: 'redis' });
      deps.logger.warn({ err }, 'metrics scrape could not read the allowed rate');
    }
  }

  return {
    contentType: merged.contentType,
    async render() {
      await Promise.all([readDatabase(), readQueue(), readRate()]);
      return merged.metrics();
    },
  };
}
