import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string;
    redisUrl: string;
  }
}

const HOW_TO =
  'Tests need Postgres and Redis. Set DATABASE_URL (postgres://user:pass@host:port/db, a role that may CREATE DATABASE) ' +
  'and REDIS_URL (redis://host:port), or run where testcontainers can reach a Docker engine. `.ci/run` does both for you.';

/**
 * Finds Postgres and Redis once for the whole run: the environment first, then testcontainers,
 * otherwise one clear message naming what to set.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let databaseUrl = process.env.DATABASE_URL;
  let redisUrl = process.env.REDIS_URL;
  const stops: (() => Promise<unknown>)[] = [];
  if (!databaseUrl || !redisUrl) {
    try {
      const { getContainerRuntimeClient } = await import('testcontainers');
      await getContainerRuntimeClient();
      if (!databaseUrl) {
        const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
        const pg = await new PostgreSqlContainer('postgres:16-alpine').start();
        stops.push(() => pg.stop());
        databaseUrl = pg.getConnectionUri();
      }
      if (!redisUrl) {
        const { RedisContainer } = await import('@testcontainers/redis');
        const redis = await new RedisContainer('redis:7-alpine').start();
        stops.push(() => redis.stop());
        redisUrl = redis.getConnectionUrl();
      }
    } catch (err) {
      throw new Error(`${HOW_TO}\n(testcontainers: ${(err as Error).message})`);
    }
  }
  project.provide('databaseUrl', databaseUrl);
  project.provide('redisUrl', redisUrl);
  return async () => {
    for (const stop of stops) await stop();
  };
}
