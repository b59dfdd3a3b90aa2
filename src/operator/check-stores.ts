import type { Redis } from 'ioredis';
import pg from 'pg';
import { migrationStatus } from '../db/migrate.ts';
import { connectRedis, RedisUnreachableError } from '../composition/connect-redis.ts';
import { failed, passed, reasonOf, type CheckResult } from './check-result.ts';

const TIMEOUT_MS = 5_000;

/** Postgres answers on DATABASE_URL and every migration in prisma/migrations is applied. */
export async function checkDatabase(databaseUrl: string): Promise<CheckResult> {
  const client = new pg.Client({
    connectionString: databaseUrl,
    connectionTimeoutMillis: TIMEOUT_MS,
    application_name: 'afilnet-sync-check',
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch (err) {
    return failed(
      'database',
      `cannot reach Postgres: ${reasonOf(err)}`,
      'Start Postgres, or correct DATABASE_URL (host, port, user, password, database name).',
    );
  } finally {
    await client.end().catch(() => undefined);
  }
  let status: { pending: string[]; failed: string[] };
  try {
    status = await migrationStatus(databaseUrl);
  } catch (err) {
    return failed(
      'database',
      `cannot read the migration history: ${reasonOf(err)}`,
      'Give the DATABASE_URL user read access to _prisma_migrations, then run `npx afilnet-sync migrate`.',
    );
  }
  if (status.failed.length > 0) {
    return failed(
      'database',
      `a migration failed: ${status.failed.join(', ')}`,
      'Read its logs in _prisma_migrations, repair the database, mark it rolled back, then run `npx afilnet-sync migrate`.',
    );
  }
  if (status.pending.length > 0) {
    return failed(
      'database',
      `not migrated: ${status.pending.length} pending (${status.pending.join(', ')})`,
      'Run `npx afilnet-sync migrate`.',
    );
  }
  return passed('database', 'reachable, every migration applied');
}

/** One `field:value` of Redis' INFO text. */
function infoField(info: string, field: string): string | undefined {
  const line = info.split(/\r?\n/).find((l) => l.startsWith(`${field}:`));
  return line?.slice(field.length + 1).trim();
}

/**
 * Redis answers on REDIS_URL and will not evict keys: BullMQ's job and lock keys have no
 * expiry, so any policy but `noeviction` can drop queued work under memory pressure. Whether AOF
 * is on is reported, not required: the daemon's durable state is in Postgres, and the queue is
 * rebuilt from its marks. Read with INFO, which managed Redis services allow where CONFIG is not.
 */
export async function checkRedis(redisUrl: string): Promise<CheckResult> {
  const unreachable = (err: unknown): CheckResult =>
    failed(
      'redis',
      `cannot reach Redis: ${reasonOf(err instanceof RedisUnreachableError ? err.cause : err)}`,
      'Start Redis, or correct REDIS_URL (host, port, password, TLS with rediss://).',
    );
  let redis: Redis;
  try {
    redis = await connectRedis(redisUrl, TIMEOUT_MS);
  } catch (err) {
    return unreachable(err);
  }
  try {
    const memory = await redis.info('memory');
    const persistence = await redis.info('persistence');
    const policy = infoField(memory, 'maxmemory_policy') ?? 'unknown';
    const aof = infoField(persistence, 'aof_enabled') === '1' ? 'AOF on' : 'AOF off';
    if (policy !== 'noeviction') {
      return failed(
        'redis',
        `maxmemory-policy is ${policy} (${aof}): Redis may evict queued jobs`,
        "Set maxmemory-policy noeviction (redis.conf, `CONFIG SET maxmemory-policy noeviction` then `CONFIG REWRITE`, or your provider's parameter group).",
      );
    }
    return passed('redis', `reachable, maxmemory-policy noeviction, ${aof}`);
  } catch (err) {
    return unreachable(err);
  } finally {
    redis.disconnect();
  }
}
