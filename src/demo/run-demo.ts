import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import { loadDaemonConfig, type DemoConfig } from '../config/config.ts';
import { startDaemon, type RunningDaemon } from '../daemon.ts';
import { connectClient, describeDatabase, withDatabaseName } from '../db/connect.ts';
import { migrate } from '../db/migrate.ts';
import { startEmulator, type CallCounters, type RunningEmulator } from '../emulator/index.ts';
import { createLogger } from '../observability/logger.ts';
import { addNaive, changeDataset, loadDataset } from './demo-dataset.ts';
import {
  formatSummary,
  readFailures,
  readProgress,
  summarize,
  type DemoSummary,
} from './demo-report.ts';

export interface DemoOptions {
  /** Good contacts to create (two bad ones are added). */
  contacts: number;
  /** AFILNET_RATE_LIMIT for the in-process daemon. */
  rate: number;
  /** Give up waiting for the sync after this long. */
  timeoutMs: number;
  /** The daemon's log level (its lines go to stdout among the demo's). */
  logLevel: string;
  /** Keep the demo_<random> database instead of dropping it. */
  keepDatabase: boolean;
  /** One line of progress or summary. */
  print: (line: string) => void;
}

/** The database the demo fills: DEMO_DATABASE_URL as given, or a new demo_<random> one. */
async function prepareDatabase(
  config: Readonly<DemoConfig>,
): Promise<{ url: string; name: string; drop: (() => Promise<void>) | null }> {
  if (config.DEMO_DATABASE_URL !== undefined) {
    return {
      url: config.DEMO_DATABASE_URL,
      name: describeDatabase(config.DEMO_DATABASE_URL),
      drop: null,
    };
  }
  const server = config.DATABASE_URL as string;
  const name = `demo_${randomBytes(5).toString('hex')}`;
  const admin = await connectClient(server);
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end().catch(() => undefined);
  }
  const drop = async () => {
    const c = await connectClient(server);
    try {
      await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    } finally {
      await c.end().catch(() => undefined);
    }
  };
  return { url: withDatabaseName(server, name), name, drop };
}

/** The demo's ids would collide with rows already there: refuse rather than mix data. */
async function assertEmpty(pool: pg.Pool, where: string): Promise<void> {
  const res = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM groups');
  if ((res.rows[0]?.n ?? 0) > 0) {
    throw new Error(`${where} already holds groups: point DEMO_DATABASE_URL at an empty database`);
  }
}

async function emulatorCalls(emulator: RunningEmulator): Promise<CallCounters> {
  return (await (await fetch(`${emulator.url}/__emulator/calls`)).json()) as CallCounters;
}

async function remoteContacts(emulator: RunningEmulator): Promise<number> {
  const res = await fetch(`${emulator.url}/__emulator/state`);
  const state = (await res.json()) as { groups: { contacts: unknown[] }[] };
  return state.groups.reduce((n, g) => n + g.contacts.length, 0);
}

/** Polls until nothing is left to sync, printing progress about once a second. */
async function waitForDrain(
  pool: pg.Pool,
  emulator: RunningEmulator,
  opts: DemoOptions,
): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  let lastPrint = 0;
  for (;;) {
    const p = await readProgress(pool);
    if (p.backlog === 0) return;
    if (Date.now() > deadline) {
      throw new Error(`the sync did not drain within ${opts.timeoutMs} ms (${p.backlog} left)`);
    }
    if (Date.now() - lastPrint >= 1_000) {
      const calls = await emulatorCalls(emulator);
      opts.print(
        `  … ${p.synced}/${p.members} members synced, ${p.backlog} changes pending, ${calls.total} API calls`,
      );
      lastPrint = Date.now();
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Removes the demo's queue keys, so a shared Redis keeps nothing of it. */
async function dropQueueKeys(redisUrl: string, prefix: string): Promise<void> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  try {
    for await (const keys of redis.scanStream({ match: `${prefix}:*`, count: 500 })) {
      if ((keys as string[]).length > 0) await redis.del(...(keys as string[]));
    }
  } finally {
    redis.disconnect();
  }
}

/**
 * Runs the whole demo: a database of its own, an in-process emulator and daemon, a dataset loaded
 * then changed, and a summary comparing the calls made with one call per change.
 */
export async function runDemo(
  config: Readonly<DemoConfig>,
  opts: DemoOptions,
): Promise<DemoSummary> {
  const started = Date.now();
  const database = await prepareDatabase(config);
  const prefix = `demo-${randomBytes(4).toString('hex')}`;
  let emulator: RunningEmulator | null = null;
  let daemon: RunningDaemon | null = null;
  const pool = new pg.Pool({ connectionString: database.url, max: 4 });
  try {
    opts.print(`Database ${database.name}: migrating`);
    await migrate(database.url);
    await assertEmpty(pool, database.name);
    emulator = await startEmulator();
    opts.print(`Emulator at ${emulator.url} (inspect ${emulator.url}/__emulator/state)`);
    const daemonConfig = loadDaemonConfig({
      DATABASE_URL: database.url,
      REDIS_URL: config.REDIS_URL,
      QUEUE_PREFIX: prefix,
      AFILNET_BASE_URL: emulator.url,
      AFILNET_USER: 'demo',
      AFILNET_PASSWORD: 'demo',
      AFILNET_RATE_LIMIT: String(opts.rate),
      RELAY_POLL_MS: '250',
      ADMIN_PORT: '0',
      LOG_LEVEL: opts.logLevel,
      // The demo reports every call as its efficiency figure: the start check's one is left out
      // (the emulator's credentials are known good).
      START_CHECK_AFILNET: 'false',
    });
    daemon = await startDaemon(
      daemonConfig,
      createLogger({ level: opts.logLevel, name: 'afilnet-sync' }),
    );
    opts.print(`Daemon started (admin at ${daemon.adminUrl}, rate ${opts.rate} calls/s)`);

    opts.print(`Loading 3 groups and ${opts.contacts} contacts (+2 bad ones) in one transaction`);
    const loaded = await loadDataset(pool, opts.contacts);
    await waitForDrain(pool, emulator, opts);
    opts.print('Changing: renames, city moves, an unsynced score, removals, contact deletes');
    const changed = await changeDataset(pool, opts.contacts);
    await waitForDrain(pool, emulator, opts);

    const summary = summarize({
      database: database.name,
      contacts: opts.contacts,
      progress: await readProgress(pool),
      remote: await remoteContacts(emulator),
      failures: await readFailures(pool),
      calls: await emulatorCalls(emulator),
      naive: addNaive(loaded, changed),
      durationMs: Date.now() - started,
    });
    for (const line of formatSummary(summary)) opts.print(line);
    return summary;
  } finally {
    await daemon?.stop();
    await emulator?.close();
    await pool.end();
    await dropQueueKeys(config.REDIS_URL, prefix).catch(() => undefined);
    if (database.drop && !opts.keepDatabase) await database.drop();
    else opts.print(`Kept database ${database.name}`);
  }
}
