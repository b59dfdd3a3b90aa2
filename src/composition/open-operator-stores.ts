import type { Redis } from 'ioredis';
import type pg from 'pg';
import { createPool, POOL_DEFAULTS } from '../db/create-pool.ts';
import { assertMigrated } from '../db/migrate.ts';
import { createLogger } from '../observability/logger.ts';
import { GroupQueue } from '../sync/group-queue.ts';
import { connectRedis } from './connect-redis.ts';

/** What an operator command works on. `redis` and `queue` exist only when asked for. */
export interface OperatorStores {
  pool: pg.Pool;
  redis: Redis | null;
  queue: GroupQueue | null;
  close(): Promise<void>;
}

export interface OpenStoresOptions {
  databaseUrl: string;
  /** Omit for commands that touch Postgres only (errors, import). */
  redisUrl?: string;
  /** QUEUE_PREFIX; needed with `redisUrl`. */
  prefix?: string;
  /** Attempts given to jobs this process enqueues; should match the daemon's SYNC_MAX_ATTEMPTS. */
  maxAttempts?: number;
  timeoutMs?: number;
}

/**
 * Connects to Postgres (checking that it is reachable and migrated, so a command fails with one
 * clear line rather than "relation does not exist") and, when asked, to Redis. Unlike the
 * daemon's connections these give up at once: an operator at a terminal wants an answer, not a
 * silent retry loop.
 */
export async function openOperatorStores(opts: OpenStoresOptions): Promise<OperatorStores> {
  const timeoutMs = opts.timeoutMs ?? 5_000;
  await assertMigrated(opts.databaseUrl);
  // The same pool factory as the daemon's, minus the statement timeout: an operator's import or
  // report may legitimately run long, and is cancelled with Ctrl+C instead.
  const pool = createPool({
    ...POOL_DEFAULTS,
    connectionString: opts.databaseUrl,
    max: 4,
    applicationName: 'afilnet-sync-cli',
    connectTimeoutMs: timeoutMs,
    statementTimeoutMs: 0,
    idleInTransactionTimeoutMs: 0,
    logger: createLogger({ level: 'silent' }),
  });
  if (opts.redisUrl === undefined) {
    return { pool, redis: null, queue: null, close: () => pool.end() };
  }
  let redis: Redis;
  try {
    redis = await connectRedis(opts.redisUrl, timeoutMs);
  } catch (err) {
    await pool.end();
    throw err;
  }
  // Jobs are enqueued with no delay, so the batch window does not matter here.
  const queue = new GroupQueue(redis, opts.prefix ?? 'afilnet-sync', 0, opts.maxAttempts ?? 12);
  return {
    pool,
    redis,
    queue,
    async close() {
      await queue.close();
      await redis.quit().catch(() => redis.disconnect());
      await pool.end();
    },
  };
}
