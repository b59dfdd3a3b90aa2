import type { Telemetry } from 'bullmq';
import { Redis } from 'ioredis';
import type pg from 'pg';
import { AfilnetClient } from '../afilnet/index.ts';
import type { DaemonConfig } from '../config/config.ts';
import { createPool } from '../db/create-pool.ts';
import { ApiCaller } from '../gateway/api-caller.ts';
import { RateBudget } from '../gateway/rate-budget.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import { GroupQueue } from '../sync/group-queue.ts';

/** What every process that talks to Postgres, Redis and Afilnet shares, built one way. */
export interface Services {
  pool: pg.Pool;
  /** Commands and the account-wide state (rate budget, pause). */
  redis: Redis;
  /** BullMQ's own connection (workers block on it). */
  connection: Redis;
  budget: RateBudget;
  queue: GroupQueue;
  client: AfilnetClient;
  caller: ApiCaller;
  close(): Promise<void>;
}

export interface OpenServicesOptions {
  /** Shown in pg_stat_activity: `afilnet-sync`, `afilnet-sync-resync`, … */
  applicationName: string;
  poolMax: number;
  metrics?: Metrics | null;
  /** BullMQ's OpenTelemetry integration (tracing on), for the group queue. */
  telemetry?: Telemetry;
}

/** The configured bounds of a daemon pool (size and name are each pool's own). */
export function poolSettingsOf(config: Readonly<DaemonConfig>, logger: Logger) {
  return {
    connectionString: config.DATABASE_URL,
    connectTimeoutMs: config.DATABASE_CONNECT_TIMEOUT_MS,
    statementTimeoutMs: config.DATABASE_STATEMENT_TIMEOUT_MS,
    idleInTransactionTimeoutMs: config.DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS,
    idleTimeoutMs: config.DATABASE_IDLE_TIMEOUT_MS,
    keepAliveDelayMs: 10_000,
    slowQueryMs: config.DATABASE_SLOW_QUERY_MS,
    logger,
  };
}

/**
 * The one composition of the shared services, for the daemon (and its admin server) and for CLI
 * commands that call Afilnet (resync): the pool with the configured bounds, Redis with BullMQ's
 * settings, the account-wide rate budget, the group queue, the client and the one caller every
 * Afilnet call goes through. A CLI resync therefore waits its turn in the daemon's budget.
 */
export function openServices(
  config: Readonly<DaemonConfig>,
  logger: Logger,
  opts: OpenServicesOptions,
): Services {
  const metrics = opts.metrics ?? null;
  const pool = createPool({
    ...poolSettingsOf(config, logger),
    max: opts.poolMax,
    applicationName: opts.applicationName,
  });
  const redisOptions = { maxRetriesPerRequest: null, enableReadyCheck: true } as const;
  const redis = new Redis(config.REDIS_URL, redisOptions);
  redis.on('error', (err) => logger.warn({ err }, 'Redis connection error'));
  const connection = new Redis(config.REDIS_URL, redisOptions);
  connection.on('error', () => undefined);
  const budget = new RateBudget(
    redis,
    config.QUEUE_PREFIX,
    config.AFILNET_RATE_LIMIT,
    metrics ? (ms, priority) => metrics.budgetWaitSeconds.inc({ priority }, ms / 1000) : undefined,
  );
  const client = AfilnetClient.fromConfig(config);
  const caller = new ApiCaller(budget, metrics, logger, config.AFILNET_CONNECTIONS, {
    maxRetryAfterMs: config.AFILNET_MAX_RETRY_AFTER_MS,
  });
  const queue = new GroupQueue(
    connection,
    config.QUEUE_PREFIX,
    config.BATCH_WINDOW_MS,
    config.SYNC_MAX_ATTEMPTS,
    opts.telemetry,
  );
  return {
    pool,
    redis,
    connection,
    budget,
    queue,
    client,
    caller,
    async close() {
      await queue.close();
      await client.close();
      await pool.end();
      redis.disconnect();
      connection.disconnect();
    },
  };
}
