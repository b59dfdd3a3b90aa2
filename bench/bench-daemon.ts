import pg from 'pg';
import { AfilnetClient } from '../src/afilnet/index.ts';
import { loadDaemonConfig } from '../src/config/config.ts';
import { startDaemon, type RunningDaemon } from '../src/daemon.ts';
import { startEmulator, type CallCounters, type RunningEmulator } from '../src/emulator/index.ts';
import { createLogger } from '../src/observability/logger.ts';
import {
  createBenchDatabase,
  dropPrefix,
  freshPrefix,
  sleep,
  type BenchDatabase,
  type BenchStores,
} from './bench-env.ts';
import { spawnDaemon, type DaemonChild } from './daemon-process.ts';
import { startEmulatorProcess } from './emulator-process.ts';

/** One scenario's world: its own database, Redis prefix and emulator, and a daemon against them. */
export interface BenchRig {
  db: pg.Pool;
  database: BenchDatabase;
  emulator: RunningEmulator;
  prefix: string;
  env: Record<string, string>;
  /** The in-process daemon, while one runs (null when it runs as a child process). */
  daemon: RunningDaemon | null;
  startDaemon(overrides?: Record<string, string>): Promise<void>;
  /** Waits until drained; a failure names what is left and, for a child daemon, its warnings. */
  drained(timeoutMs: number, pollMs?: number): Promise<number>;
  stopDaemon(): Promise<void>;
  close(): Promise<void>;
}

export interface RigOptions {
  scenario: string;
  strictDocs?: boolean;
  /** Daemon settings for this scenario, on top of the daemon's defaults. */
  env?: Record<string, string>;
  /** Run the emulator in a child process rather than in this one. */
  emulatorProcess?: boolean;
  /** Run the daemon as `afilnet-sync start` in a child process rather than in this one. */
  daemonProcess?: boolean;
}

export async function createRig(stores: BenchStores, opts: RigOptions): Promise<BenchRig> {
  const database = await createBenchDatabase(stores.databaseUrl);
  const strictDocs = opts.strictDocs ?? false;
  const emulator = opts.emulatorProcess
    ? await startEmulatorProcess({ strictDocs })
    : await startEmulator({ strictDocs });
  const prefix = freshPrefix(opts.scenario);
  const env: Record<string, string> = {
    DATABASE_URL: database.url,
    REDIS_URL: stores.redisUrl,
    QUEUE_PREFIX: prefix,
    AFILNET_BASE_URL: emulator.url,
    AFILNET_USER: 'demo',
    AFILNET_PASSWORD: 'demo',
    LOG_LEVEL: 'silent',
    // The benches count every call: the start check's one call is left out.
    START_CHECK_AFILNET: 'false',
    ADMIN_PORT: '0',
    ...opts.env,
  };
  const db = new pg.Pool({ connectionString: database.url, max: 6 });
  db.on('error', () => undefined);
  let child: DaemonChild | null = null;
  const rig: BenchRig = {
    db,
    database,
    emulator,
    prefix,
    env,
    daemon: null,
    async startDaemon(overrides = {}) {
      if (opts.daemonProcess) {
        child = spawnDaemon({ ...env, ...overrides });
        return;
      }
      const config = loadDaemonConfig({ ...env, ...overrides });
      rig.daemon = await startDaemon(config, createLogger({ level: config.LOG_LEVEL }));
    },
    async drained(timeoutMs, pollMs) {
      try {
        return await waitDrained(db, timeoutMs, pollMs, () => child?.running() ?? true);
      } catch (err) {
        const log = child?.output().trim();
        if (log && err instanceof Error) err.message += `\ndaemon log:\n${log}`;
        throw err;
      }
    },
    async stopDaemon() {
      await rig.daemon?.stop();
      rig.daemon = null;
      await child?.stop();
      child = null;
    },
    async close() {
      await rig.stopDaemon();
      await db.end();
      await emulator.close();
      await database.drop();
      await dropPrefix(stores.redisUrl, prefix);
    },
  };
  return rig;
}

/** Runs `fn` with a rig and closes it whatever happens. */
export async function withRig<T>(
  stores: BenchStores,
  opts: RigOptions,
  fn: (rig: BenchRig) => Promise<T>,
): Promise<T> {
  const rig = await createRig(stores, opts);
  try {
    return await fn(rig);
  } finally {
    await rig.close();
  }
}

/** Captured work still waiting: outbox rows, dirty marks, dirty groups. Held work counts too. */
export async function pendingWork(db: pg.Pool): Promise<number> {
  const res = await db.query<{ n: string }>(
    `SELECT (SELECT count(*) FROM sync_outbox) + (SELECT count(*) FROM sync_dirty)
          + (SELECT count(*) FROM sync_group_state WHERE dirty) AS n`,
  );
  return Number(res.rows[0]?.n);
}

/**
 * Waits until nothing captured is waiting; resolves with the time it was first seen drained.
 * Throws with the reason when it does not drain in time (a held delete names its hold).
 */
export async function waitDrained(
  db: pg.Pool,
  timeoutMs: number,
  pollMs = 25,
  alive: () => boolean = () => true,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if ((await pendingWork(db)) === 0) return performance.timeOrigin + performance.now();
    if (!alive()) throw new Error(`the daemon exited: ${await whatIsLeft(db)}`);
    if (Date.now() > deadline)
      throw new Error(`not drained after ${timeoutMs} ms: ${await whatIsLeft(db)}`);
    await sleep(pollMs);
  }
}

/** What is still waiting, for the error of a run that did not drain. */
async function whatIsLeft(db: pg.Pool): Promise<string> {
  const res = await db.query<{ left: unknown }>(
    `SELECT json_build_object(
       'outbox', (SELECT count(*) FROM sync_outbox),
       'dirty', (SELECT json_object_agg(group_id, n) FROM (SELECT group_id, count(*) AS n FROM sync_dirty GROUP BY 1) d),
       'oldestMarkSeconds', (SELECT extract(epoch FROM now() - min(marked_at))::int FROM sync_dirty),
       'groups', (SELECT json_agg(json_build_object('id', group_id, 'status', status, 'dirty', dirty, 'error', last_error)) FROM sync_group_state),
       'holds', (SELECT json_agg(reason) FROM sync_holds WHERE approved_at IS NULL)) AS left`,
  );
  return JSON.stringify(res.rows[0]?.left);
}

export const emulatorCalls = async (url: string): Promise<CallCounters> =>
  (await (await fetch(`${url}/__emulator/calls`)).json()) as CallCounters;

/** What one phase cost: the counters' difference, method by method. */
export function callsBetween(before: CallCounters, after: CallCounters): CallCounters {
  const byMethod: Record<string, number> = {};
  for (const [method, n] of Object.entries(after.byMethod)) {
    const d = n - (before.byMethod[method] ?? 0);
    if (d > 0) byMethod[method] = d;
  }
  return {
    total: after.total - before.total,
    byMethod,
    rejected: {
      rate_limited: after.rejected.rate_limited - before.rejected.rate_limited,
      fault: after.rejected.fault - before.rejected.fault,
    },
  };
}

export async function setFaults(url: string, faults: Record<string, number>): Promise<void> {
  const res = await fetch(`${url}/__emulator/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(faults),
  });
  if (!res.ok) throw new Error(`emulator refused faults: ${await res.text()}`);
}

export interface GroupDef {
  id: string;
  type: 'mobile' | 'email';
  fields: string[];
}

/**
 * Creates the groups remotely (outside any daemon) and answers their ids by name. Needed where
 * creategroup answers no id (strict-docs mode): the ids are read back from the emulator's state,
 * as an operator would read them from Afilnet's panel.
 */
export async function createRemoteGroups(
  emulatorUrl: string,
  groups: readonly GroupDef[],
): Promise<Map<string, string>> {
  const client = new AfilnetClient({
    baseUrl: emulatorUrl,
    user: 'demo',
    password: 'demo',
    auth: 'post',
  });
  try {
    for (const g of groups)
      await client.creategroup({ name: g.id, type: g.type, fields: g.fields });
  } finally {
    await client.close();
  }
  const state = (await (await fetch(`${emulatorUrl}/__emulator/state`)).json()) as {
    groups: { idgroup: number; name: string }[];
  };
  return new Map(state.groups.map((g) => [g.name, String(g.idgroup)]));
}

/** Inserts the group rows; with `remoteIds`, linked to existing remote groups. */
export async function insertGroups(
  db: pg.Pool,
  groups: readonly GroupDef[],
  remoteIds?: Map<string, string>,
): Promise<void> {
  for (const g of groups) {
    await db.query(
      'INSERT INTO groups (id, name, type, fields, afilnet_id) VALUES ($1, $1, $2, $3, $4)',
      [g.id, g.type, g.fields, remoteIds?.get(g.id) ?? null],
    );
  }
}
