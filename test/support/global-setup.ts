import type { TestProject } from 'vitest/node';
import { HOW_TO, locateStores } from './locate-stores.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string;
    redisUrl: string;
  }
}

/**
 * Finds Postgres and Redis once for the whole run: the environment first, then the standard local
 * ports (a build machine runs both), then testcontainers, otherwise one clear message naming what
 * to set. Each test file still makes its own database and key prefix (stores.ts).
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let { databaseUrl, redisUrl } = await locateStores(process.env);
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
