import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { Redis } from 'ioredis';
import pg from 'pg';
import { withDatabaseName } from '../src/db/connect.ts';
import { migrate } from '../src/db/migrate.ts';

/** Where the benchmarks find Postgres and Redis (the same variables as the daemon and the tests). */
export interface BenchStores {
  databaseUrl: string;
  redisUrl: string;
}

/** bench/ may read the environment (the src/config rule is for the daemon's own code). */
export function benchStores(env: NodeJS.ProcessEnv = process.env): BenchStores {
  return {
    databaseUrl: env.DATABASE_URL ?? 'postgres://postgres:postgres@127.0.0.1:5432/postgres',
    redisUrl: env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  };
}

export interface BenchDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

async function onAdmin<T>(baseUrl: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: baseUrl });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/**
 * A fresh, migrated database on DATABASE_URL's server. Every scenario gets its own, so no
 * scenario's leftovers (dirty marks, delete log, bloat) weigh on the next one's figures.
 */
export async function createBenchDatabase(baseUrl: string): Promise<BenchDatabase> {
  const name = `bench_run_${randomBytes(5).toString('hex')}`;
  await onAdmin(baseUrl, (c) => c.query(`CREATE DATABASE ${name}`));
  const url = withDatabaseName(baseUrl, name);
  try {
    await migrate(url);
  } catch (err) {
    await onAdmin(baseUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    throw err;
  }
  return {
    url,
    name,
    drop: () =>
      onAdmin(baseUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(
        () => undefined,
      ),
  };
}

/** A Redis key prefix no other run or scenario uses. */
export const freshPrefix = (scenario: string): string =>
  `bench-${scenario}-${randomBytes(4).toString('hex')}`;

/** Deletes every key under a prefix, so a benchmark leaves Redis as it found it. */
export async function dropPrefix(redisUrl: string, prefix: string): Promise<void> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 3 });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

export interface MachineInfo {
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  platform: string;
  node: string;
  postgres: string;
  redis: string;
}

/** What the figures were measured on: they mean little without it. */
export async function machineInfo(stores: BenchStores): Promise<MachineInfo> {
  const postgres = await onAdmin(stores.databaseUrl, (c) =>
    c.query<{ v: string }>(`SELECT current_setting('server_version') AS v`),
  );
  // One attempt, no reconnecting: a wrong REDIS_URL should say so, not retry forever.
  const redis = new Redis(stores.redisUrl, {
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    lazyConnect: true,
  });
  redis.on('error', () => undefined);
  let redisVersion = 'unknown';
  try {
    await redis.connect();
    const info = await redis.info('server');
    redisVersion = /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';
  } catch (err) {
    throw new Error(`cannot reach Redis at REDIS_URL=${stores.redisUrl}: set REDIS_URL`, {
      cause: err,
    });
  } finally {
    redis.disconnect();
  }
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    platform: `${process.platform} ${process.arch}`,
    node: process.version,
    postgres: postgres.rows[0]?.v ?? 'unknown',
    redis: redisVersion,
  };
}

/** Wall-clock milliseconds with fractions, on the same clock as the emulator's `at` stamps. */
export const nowMs = (): number => performance.timeOrigin + performance.now();

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The p-th percentile (0–100) by nearest rank; NaN for no samples. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] as number;
}

/** Rounds for the report: figures are shown, not computed further. */
export const round = (x: number, digits = 2): number => {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
};

/** Jiffies from /proc/stat's first line: [busy, total]; null where there is no /proc. */
function cpuJiffies(): [number, number] | null {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
    const [, ...fields] = line.trim().split(/\s+/);
    const n = fields.slice(0, 8).map(Number);
    const total = n.reduce((a, b) => a + b, 0);
    const idle = (n[3] ?? 0) + (n[4] ?? 0);
    return [total - idle, total];
  } catch {
    return null;
  }
}

/**
 * How busy the whole machine's CPUs were between the call and the returned function's call
 * (0–1): a latency figure taken while something else saturates the cores says little.
 */
export function machineBusy(): () => number | null {
  const start = cpuJiffies();
  return () => {
    const end = cpuJiffies();
    if (!start || !end || end[1] === start[1]) return null;
    return round((end[0] - start[0]) / (end[1] - start[1]), 3);
  };
}
