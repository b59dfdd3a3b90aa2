import { Redis } from 'ioredis';
import type pg from 'pg';
import { createPool, POOL_DEFAULTS } from '../db/create-pool.ts';
import { assertMigrated } from '../db/migrate.ts';
import { createLogger } from '../observability/logger.ts';
import { GroupQueue } from '../sync/group-queue.ts';

/** Redis could not be reached. The message names host and port, never a password. */
export class RedisUnreachableError extends Error {
  override name = 'RedisUnreachableError';
  constructor(redisUrl: string, cause: unknown) {
    const reason = cause instanceof Error && cause.message ? cause.message : String(cause);
    super(`Cannot connect to Redis at ${describeRedis(redisUrl)}: ${reason}`, { cause });
  }
}

function describeRedis(redisUrl: string): string {
  try {
    const url = new URL(redisUrl);
    return `${url.hostname}:${url.port || '6379'}`;
  } catch {
    return '(unparseable REDIS_URL)';
  }
}

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

async function connectRedis(redisUrl: string, timeoutMs: number): Promise<Redis> {
  const redis = new Redis(redisUrl, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 1,
    retryStrategy: () => null,
  });
  // Without a listener ioredis prints every connection error. connect() then rejects with a bare
  // "Connection is closed": the socket's own error (ECONNREFUSED, …) says more.
  let socketError: unknown = null;
  redis.on('error', (err) => {
    socketError ??= err;
  });
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    redis.disconnect();
    throw new RedisUnreachableError(redisUrl, socketError ?? err);
  }
  return redis;
}
