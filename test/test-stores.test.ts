import { describe, expect, it } from 'vitest';
import {
  LOCAL_DATABASE_URL,
  LOCAL_REDIS_URL,
  locateStores,
  postgresAnswers,
  redisAnswers,
} from './support/locate-stores.ts';

const yes = () => Promise.resolve(true);
const no = () => Promise.resolve(false);

describe('finding Postgres and Redis for the tests', () => {
  it('uses DATABASE_URL and REDIS_URL when set, without probing', async () => {
    const probed: string[] = [];
    const probe = (url: string) => (probed.push(url), Promise.resolve(true));
    const r = await locateStores(
      { DATABASE_URL: 'postgres://x@db/y', REDIS_URL: 'redis://r:1' },
      { postgres: probe, redis: probe },
    );
    expect(r).toMatchObject({ databaseUrl: 'postgres://x@db/y', redisUrl: 'redis://r:1' });
    expect(probed).toEqual([]);
  });

  it('falls back to the standard local ports when they answer', async () => {
    const r = await locateStores({}, { postgres: yes, redis: yes });
    expect(r).toMatchObject({ databaseUrl: LOCAL_DATABASE_URL, redisUrl: LOCAL_REDIS_URL });
  });

  it('leaves a store that does not answer to testcontainers, each on its own', async () => {
    const r = await locateStores({ REDIS_URL: 'redis://r:1' }, { postgres: no, redis: yes });
    expect(r.databaseUrl).toBeUndefined();
    expect(r.redisUrl).toBe('redis://r:1');
  });

  it('probes for real: nothing answers on a closed port', async () => {
    expect(await postgresAnswers('postgres://postgres@127.0.0.1:1/postgres')).toBe(false);
    expect(await redisAnswers('redis://127.0.0.1:1')).toBe(false);
  });
});
