import { Redis } from 'ioredis';
import pg from 'pg';

/** Where the services of a plain build machine listen (README, .ci/run). */
export const LOCAL_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
export const LOCAL_REDIS_URL = 'redis://127.0.0.1:6379';

export const HOW_TO =
  'Tests need Postgres and Redis. Set DATABASE_URL (postgres://user:pass@host:port/db, a role that may CREATE DATABASE) ' +
  `and REDIS_URL (redis://host:port), run them locally (${LOCAL_DATABASE_URL}, ${LOCAL_REDIS_URL}), ` +
  'or run where testcontainers can reach a Docker engine. `.ci/run` does it for you.';

/** True when a Postgres answers at `url` and lets this role create databases. */
export async function postgresAnswers(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const r = await client.query<{ ok: boolean }>(
      'SELECT rolcreatedb OR rolsuper AS ok FROM pg_roles WHERE rolname = current_user',
    );
    return r.rows[0]?.ok === true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** True when a Redis answers PING at `url`. */
export async function redisAnswers(url: string): Promise<boolean> {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 2_000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    return (await redis.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}

export interface Located {
  databaseUrl?: string;
  redisUrl?: string;
  /** Where each came from, for the run's first line. */
  sources: string[];
}

/**
 * Each store from the environment when set, else from the standard local port when something
 * answers there; what is still missing is left for testcontainers.
 */
export async function locateStores(
  env: Record<string, string | undefined>,
  probes = { postgres: postgresAnswers, redis: redisAnswers },
): Promise<Located> {
  const located: Located = { sources: [] };
  const [pgLocal, redisLocal] = await Promise.all([
    env.DATABASE_URL ? false : probes.postgres(LOCAL_DATABASE_URL),
    env.REDIS_URL ? false : probes.redis(LOCAL_REDIS_URL),
  ]);
  if (env.DATABASE_URL) {
    located.databaseUrl = env.DATABASE_URL;
    located.sources.push('Postgres from DATABASE_URL');
  } else if (pgLocal) {
    located.databaseUrl = LOCAL_DATABASE_URL;
    located.sources.push(`Postgres at ${LOCAL_DATABASE_URL}`);
  }
  if (env.REDIS_URL) {
    located.redisUrl = env.REDIS_URL;
    located.sources.push('Redis from REDIS_URL');
  } else if (redisLocal) {
    located.redisUrl = LOCAL_REDIS_URL;
    located.sources.push(`Redis at ${LOCAL_REDIS_URL}`);
  }
  return located;
}
