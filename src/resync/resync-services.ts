import { Redis } from 'ioredis';
import pg from 'pg';
import { AfilnetClient } from '../afilnet/index.ts';
import type { DaemonConfig } from '../config/config.ts';
import { assertMigrated } from '../db/migrate.ts';
import type { Logger } from '../observability/logger.ts';
import { ApiCaller } from '../gateway/api-caller.ts';
import { GroupQueue } from '../sync/group-queue.ts';
import { RateBudget } from '../gateway/rate-budget.ts';
import type { ResyncServices } from './start-resync.ts';

/** Services for a resync run from outside the daemon, and how to close them. */
export interface OpenResyncServices extends ResyncServices {
  close(): Promise<void>;
}

/**
 * Connects what a resync needs outside the daemon (the CLI): Postgres, the daemon's rate budget
 * and group queue in Redis, and the Afilnet client. The budget is the daemon's own key, so the
 * CLI's reads wait their turn behind the daemon's live calls instead of adding to the load.
 */
export async function openResyncServices(
  config: Readonly<DaemonConfig>,
  logger: Logger,
): Promise<OpenResyncServices> {
  await assertMigrated(config.DATABASE_URL);
  const pool = new pg.Pool({
    connectionString: config.DATABASE_URL,
    max: 4,
    application_name: 'afilnet-sync-resync',
  });
  // An idle client whose server goes away emits 'error'; unhandled, that would kill the process.
  pool.on('error', (err) => logger.warn({ err }, 'idle Postgres connection failed'));
  const redis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: null });
  redis.on('error', (err) => logger.warn({ err }, 'Redis connection error'));
  const budget = new RateBudget(redis, config.QUEUE_PREFIX, config.AFILNET_RATE_LIMIT);
  const client = AfilnetClient.fromConfig(config);
  const queue = new GroupQueue(
    redis,
    config.QUEUE_PREFIX,
    config.BATCH_WINDOW_MS,
    config.SYNC_MAX_ATTEMPTS,
  );
  return {
    pool,
    client,
    caller: new ApiCaller(budget, null, logger),
    queue,
    logger,
    async close() {
      await queue.close();
      await client.close();
      await pool.end();
      redis.disconnect();
    },
  };
}
