import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import pg from 'pg';
import type * as DbMigrate from '../../src/db/migrate.ts';
import type * as Emulator from '../../src/emulator/index.ts';
type RunningEmulator = Emulator.RunningEmulator;
import { TreeDaemon } from './tree-daemon.ts';
import type { Mode } from './model.ts';

const exec = promisify(execFile);
/** This checkout: the system under test unless MODEL_TREE names another (a snapshot of HEAD). */
const CHECKOUT = new URL('../../', import.meta.url).pathname;

/** Settings every run's daemon gets; small numbers so holds and bad values are reachable. */
export const MAX_FIELD_LENGTH = 24;
export const DELETE_GUARD_MIN = 3;

/**
 * What lives for a whole model session: a migrated template database (cloned per run, so a run
 * starts in milliseconds on an empty, migrated database) and one emulator per mode.
 */
export interface World {
  /** Root of the source tree whose daemon, CLI, emulator and migrations are under test. */
  tree: string;
  baseUrl: string;
  redisUrl: string;
  template: string;
  emulators: Record<Mode, RunningEmulator>;
  /** Fault keys the emulator accepts (probed, since the emulator grows while this is written). */
  faultKeys: Set<string>;
  close(): Promise<void>;
}

async function admin<T>(baseUrl: string, f: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: baseUrl });
  await c.connect();
  try {
    return await f(c);
  } finally {
    await c.end();
  }
}

function dbUrl(baseUrl: string, name: string): string {
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/**
 * Starts a session. `tree` (default: MODEL_TREE, else this checkout) lets the model test a
 * committed snapshot while other people edit this working tree.
 */
export async function startWorld(
  baseUrl: string,
  redisUrl: string,
  tree = process.env.MODEL_TREE ?? CHECKOUT,
): Promise<World> {
  const root = tree.endsWith('/') ? tree : `${tree}/`;
  const { migrate: migrateDb } = (await import(`${root}src/db/migrate.ts`)) as typeof DbMigrate;
  const { startEmulator } = (await import(`${root}src/emulator/index.ts`)) as typeof Emulator;
  const template = `mtpl_${randomBytes(5).toString('hex')}`;
  await admin(baseUrl, (c) => c.query(`create database ${template}`));
  await migrateDb(dbUrl(baseUrl, template));
  const emulators = {
    normal: await startEmulator({ strictDocs: false }),
    strict: await startEmulator({ strictDocs: true }),
  };
  const faultKeys = new Set<string>();
  for (const key of [
    'errorRate',
    'resetRate',
    'appliedThenResetRate',
    'appliedThenErrorRate',
    'accountError',
  ]) {
    const res = await fetch(`${emulators.normal.url}/__emulator/faults`, {
      method: 'POST',
      body: JSON.stringify({ [key]: null }),
      headers: { 'content-type': 'application/json' },
    });
    if (res.ok) faultKeys.add(key);
  }
  // Goes with accountError (probing it alone is refused when no account error is in force).
  if (faultKeys.has('accountError')) faultKeys.add('accountErrorForMs');
  return {
    tree: root,
    baseUrl,
    redisUrl,
    template,
    emulators,
    faultKeys,
    async close() {
      await emulators.normal.close();
      await emulators.strict.close();
      await admin(baseUrl, (c) => c.query(`drop database if exists ${template} with (force)`));
    },
  };
}

/** One run: its own database, queue prefix and daemon, the emulator of its mode (reset). */
export class RunEnv {
  readonly pool: pg.Pool;
  readonly env: Record<string, string>;
  readonly emulatorUrl: string;
  private daemon: TreeDaemon | null = null;
  /** Daemon exits nobody asked for, with the end of its output. */
  readonly crashes: string[] = [];
  private constructor(
    private readonly world: World,
    private readonly dbName: string,
    readonly mode: Mode,
  ) {
    this.emulatorUrl = world.emulators[mode].url;
    const url = dbUrl(world.baseUrl, dbName);
    this.pool = new pg.Pool({ connectionString: url, max: 4 });
    this.pool.on('error', () => undefined);
    this.env = {
      DATABASE_URL: url,
      REDIS_URL: world.redisUrl,
      QUEUE_PREFIX: `m${randomBytes(5).toString('hex')}`,
      AFILNET_BASE_URL: this.emulatorUrl,
      AFILNET_USER: 'demo',
      AFILNET_PASSWORD: 'demo',
      AFILNET_RATE_LIMIT: '1000',
      AFILNET_CONNECTIONS: '4',
      AFILNET_HEADERS_TIMEOUT_MS: '5000',
      BATCH_WINDOW_MS: '50',
      RELAY_POLL_MS: '200',
      SWEEP_AFTER_MS: '3000',
      SYNC_CONCURRENCY: '2',
      SHUTDOWN_TIMEOUT_MS: '2000',
      MAX_FIELD_LENGTH: String(MAX_FIELD_LENGTH),
      DELETE_GUARD_FLOOR: '3',
      DELETE_GUARD_PERCENT: '50',
      DELETE_GUARD_MIN: String(DELETE_GUARD_MIN),
      ADMIN_PORT: '0',
      LOG_LEVEL: 'warn',
    };
  }

  static async create(world: World, mode: Mode): Promise<RunEnv> {
    const name = `mrun_${randomBytes(5).toString('hex')}`;
    await admin(world.baseUrl, (c) =>
      c.query(`create database ${name} template ${world.template}`),
    );
    await fetch(`${world.emulators[mode].url}/__emulator/reset`, { method: 'POST' });
    return new RunEnv(world, name, mode);
  }

  /** Starts the daemon (with the wrong password when asked). */
  startDaemon(opts: { wrongPassword?: boolean } = {}): void {
    const env = opts.wrongPassword ? { ...this.env, AFILNET_PASSWORD: 'rotated' } : this.env;
    this.daemon = new TreeDaemon(this.world.tree, env);
    this.daemon.start();
  }

  async killDaemon(): Promise<void> {
    await this.daemon?.kill('SIGKILL');
    this.daemon = null;
  }

  /** True when the daemon should run and does; records a crash and restarts it otherwise. */
  ensureRunning(wrongPassword: boolean): void {
    if (this.daemon?.running) return;
    if (this.daemon) this.crashes.push(this.daemon.output.slice(-2_000));
    this.startDaemon({ wrongPassword });
  }

  get daemonOutput(): string {
    return this.daemon?.output ?? '';
  }

  /** Runs the CLI against this run's database and Redis; resolves with its stdout. */
  async cli(args: string[], timeoutMs = 120_000): Promise<string> {
    const bin = `${this.world.tree}bin/afilnet-sync.mjs`;
    const { stdout } = await exec(process.execPath, [bin, ...args], {
      env: { PATH: process.env.PATH ?? '', ...this.env },
      timeout: timeoutMs,
    });
    return stdout;
  }

  async setFaults(faults: Record<string, number | string | null>): Promise<void> {
    const known = Object.fromEntries(
      Object.entries(faults).filter(([k]) => this.world.faultKeys.has(k)),
    );
    await fetch(`${this.emulatorUrl}/__emulator/faults`, {
      method: 'POST',
      body: JSON.stringify(known),
      headers: { 'content-type': 'application/json' },
    });
  }

  async faultsOff(): Promise<void> {
    const keys = [...this.world.faultKeys].filter((k) => k !== 'accountErrorForMs');
    await this.setFaults(Object.fromEntries(keys.map((k) => [k, null])));
  }

  async close(): Promise<void> {
    await this.killDaemon();
    await this.pool.end();
    await this.faultsOff();
    // The run's queue keys go with it: the shared Redis keeps only what other tests made.
    const redis = new Redis(this.env.REDIS_URL as string, { lazyConnect: true });
    await redis.connect();
    const keys: string[] = [];
    for await (const batch of redis.scanStream({ match: `${this.env.QUEUE_PREFIX}:*`, count: 500 }))
      keys.push(...(batch as string[]));
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
    await admin(this.world.baseUrl, (c) =>
      c.query(`drop database if exists ${this.dbName} with (force)`),
    );
  }
}
