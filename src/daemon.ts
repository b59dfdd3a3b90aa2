import { Redis } from 'ioredis';
import type pg from 'pg';
import { assertAdminExposureAllowed } from './admin/admin-access.ts';
import { startAdminServer, type RunningAdmin } from './admin/admin-server.ts';
import { captureTriggerProblems } from './capture/capture-triggers.ts';
import { OutboxRelay } from './capture/outbox-relay.ts';
import { SegmentRefresher } from './capture/segment-refresher.ts';
import type { DaemonConfig } from './config/config.ts';
import { openServices, poolSettingsOf } from './composition/open-services.ts';
import { createPool } from './db/create-pool.ts';
import { assertMigrated } from './db/migrate.ts';
import { startRetention } from './db/retention.ts';
import type { Logger } from './observability/logger.ts';
import { createMetrics, type Metrics } from './observability/metrics.ts';
import { DeleteGuard } from './sync/delete-guard.ts';
import { GroupQueue } from './sync/group-queue.ts';
import { createGroupWorker } from './sync/group-worker.ts';
import { RateBudget } from './gateway/rate-budget.ts';
import { applyPendingResync, parseDriftSchedule, startDriftChecks } from './resync/index.ts';
import { staleDirtyGroups } from './state/dirty-marks.ts';
import { AccountPause } from './sync/account-pause.ts';
import { clearShadowPlans } from './state/shadow-plans.ts';
import { segmentConfinementProblem } from './state/segment-membership.ts';
import { logStartChecks } from './operator/check-setup.ts';

export interface RunningDaemon {
  metrics: Metrics;
  queue: GroupQueue;
  pool: pg.Pool;
  redis: Redis;
  budget: RateBudget;
  /** The admin HTTP server's base URL (ADMIN_PORT=0 picks a free port: this says which). */
  adminUrl: string;
  /** Drains: stops taking work, lets running jobs record their calls, closes connections. */
  stop(): Promise<void>;
}

/** Wires config → dependencies → relay and workers. The only place that composes the daemon. */
export async function startDaemon(
  config: Readonly<DaemonConfig>,
  logger: Logger,
): Promise<RunningDaemon> {
  // Before connecting anything: an admin server exposed without a token is a deploy mistake.
  assertAdminExposureAllowed(config.ADMIN_HOST, config.ADMIN_TOKEN);
  // A schedule that cannot be read is a configuration error: refused before connecting anything.
  const driftSchedule =
    config.DRIFT_CHECK_SCHEDULE === undefined
      ? null
      : parseDriftSchedule(config.DRIFT_CHECK_SCHEDULE);
  await assertMigrated(config.DATABASE_URL);
  // Off unless an endpoint is set; then loaded here, so a daemon without it loads nothing of it.
  const tracing =
    config.OTEL_EXPORTER_OTLP_ENDPOINT === undefined
      ? null
      : (await import('./observability/tracing.ts')).startTracing(config, logger);
  const telemetry = tracing ? { telemetry: tracing.telemetry } : {};
  const metrics = createMetrics();
  const services = openServices(config, logger, {
    applicationName: 'afilnet-sync',
    poolMax: config.SYNC_CONCURRENCY * 2 + 4,
    metrics,
    ...telemetry,
  });
  const { pool, redis, connection, budget, client, caller, queue } = services;
  // Probes and scrapes: two connections, statements cut at 5 s (the scrape's own timeout).
  const monitorPool = createPool({
    ...poolSettingsOf(config, logger),
    max: 2,
    applicationName: 'afilnet-sync-monitor',
    connectTimeoutMs: 5_000,
    statementTimeoutMs: 5_000,
  });
  // A live daemon sends: plans a shadow daemon recorded describe a past it is now making real.
  if (config.SYNC_MODE === 'live') await clearShadowPlans(pool);
  for (const problem of await captureTriggerProblems(pool)) {
    logger.warn({ problem }, 'change capture is incomplete: some writes will not be synced');
  }
  const unconfined = await segmentConfinementProblem(pool);
  if (unconfined) logger.warn({ problem: unconfined }, 'segment filters are not confined');
  await logStartChecks(config, logger);
  const guard = new DeleteGuard(pool, {
    percent: config.DELETE_GUARD_PERCENT,
    groupMin: config.DELETE_GUARD_MIN,
    floor: config.DELETE_GUARD_FLOOR,
    windowMs: config.DELETE_GUARD_WINDOW_MS,
    dayPercent: config.DELETE_GUARD_DAY_PERCENT,
  });
  const accountPause = new AccountPause({
    budget,
    holdQueue: (ms) => queue.queue.rateLimit(ms),
    releaseQueue: async () => {
      await queue.queue.removeRateLimitKey();
    },
    resumeWork: async () => queue.enqueue(await staleDirtyGroups(pool, 0), { now: true }),
    client,
    logger,
    probeMs: config.ACCOUNT_PROBE_MS,
  });
  accountPause.start();
  let stopping = false;
  const worker = createGroupWorker(
    {
      pool,
      client,
      caller,
      guard,
      logger,
      batchSize: config.AFILNET_BATCH_SIZE,
      concurrency: config.SYNC_CONCURRENCY,
      limits: { maxFieldLength: config.MAX_FIELD_LENGTH },
      chunkSize: Math.max(config.AFILNET_BATCH_SIZE * 4, 2_000),
      sliceMs: 10_000,
      bulkYieldMs: 2_000,
      remoteRemovals: config.REMOTE_REMOVALS,
      mode: config.SYNC_MODE,
      isStopping: () => stopping,
      beforeMembers: applyPendingResync,
    },
    {
      connection,
      prefix: config.QUEUE_PREFIX,
      concurrency: config.SYNC_CONCURRENCY,
      queue,
      logger,
      accountPause,
      onRun: (outcome) => metrics.groupRuns.inc({ outcome }),
      ...telemetry,
    },
  );
  const segments = new SegmentRefresher({
    pool,
    logger,
    refreshMs: config.SEGMENT_REFRESH_MS,
    timeoutMs: config.SEGMENT_TIMEOUT_MS,
    pollMs: config.RELAY_POLL_MS,
  });
  segments.start();
  const relay = new OutboxRelay({
    pool,
    databaseUrl: config.DATABASE_URL,
    enqueueGroups: (ids) => queue.enqueue(ids),
    logger,
    pollMs: config.RELAY_POLL_MS,
    batchSize: config.RELAY_BATCH,
    sweepAfterMs: config.SWEEP_AFTER_MS,
    onClaimed: (n) => metrics.relayed.inc(n),
    onSegmentEdits: (ids) => segments.request(ids),
    ...(tracing && { claimSpan: tracing.claimSpan }),
  });
  relay.start();
  const retention = startRetention(
    pool,
    {
      deleteLogDays: config.RETENTION_DELETE_LOG_DAYS,
      holdsDays: config.RETENTION_HOLDS_DAYS,
      resyncDays: config.RETENTION_RESYNC_DAYS,
    },
    logger,
  );

  const driftChecks =
    driftSchedule === null
      ? null
      : startDriftChecks(
          {
            pool,
            queue,
            client,
            caller,
            logger,
            remoteRemovals: config.REMOTE_REMOVALS,
            autoApplyMax: config.DRIFT_AUTO_APPLY_MAX,
            report: (group, drift) => {
              for (const kind of ['missing', 'unexpected', 'stale'] as const) {
                metrics.driftMembers.set({ group, kind }, drift[kind]);
              }
            },
          },
          driftSchedule,
        );

  const stopPipeline = async () => {
    await driftChecks?.stop();
    await accountPause.stop();
    await retention.stop();
    await segments.stop();
    await relay.stop();
    const closing = worker.close();
    const timedOut = await Promise.race([
      closing.then(() => false),
      new Promise<boolean>((r) => setTimeout(() => r(true), config.SHUTDOWN_TIMEOUT_MS).unref()),
    ]);
    if (timedOut) {
      logger.warn('active jobs did not finish in time; they will be picked up again as stalled');
      await worker.close(true);
    }
    await services.close();
    await monitorPool.end();
    await tracing?.shutdown();
    logger.info('afilnet-sync stopped');
  };
  let admin: RunningAdmin;
  try {
    admin = await startAdminServer(
      {
        pool,
        monitorPool,
        redis,
        queue,
        metrics,
        prefix: config.QUEUE_PREFIX,
        rateCeiling: config.AFILNET_RATE_LIMIT,
        client,
        caller,
        logger,
        remoteRemovals: config.REMOTE_REMOVALS,
      },
      {
        host: config.ADMIN_HOST,
        port: config.ADMIN_PORT,
        token: config.ADMIN_TOKEN,
        trustProxy: config.ADMIN_TRUST_PROXY,
      },
    );
  } catch (err) {
    // A taken port must not leave the relay and workers running in a process about to exit.
    await stopPipeline();
    throw err;
  }
  logger.info(
    { prefix: config.QUEUE_PREFIX, rateLimit: config.AFILNET_RATE_LIMIT },
    'afilnet-sync started',
  );

  return {
    metrics,
    queue,
    pool,
    redis,
    budget,
    adminUrl: admin.url,
    async stop() {
      stopping = true;
      // Health checks fail first, so a load balancer stops sending work while the daemon drains.
      await admin.close();
      await stopPipeline();
    },
  };
}
