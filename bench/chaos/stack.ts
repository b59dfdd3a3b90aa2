import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { migrate } from '../../src/db/migrate.ts';
import { HISTORY_DDL } from './history.ts';
import { BAD_RECORDS_DDL } from './workload-context.ts';
import { startEmulatorProcess, type EmulatorProcess } from './emulator-process.ts';
import { startSoakPostgres, type SoakPostgres } from './own-postgres.ts';
import { startSoakRedis, type SoakRedis } from './own-redis.ts';

export interface Stack {
  postgres: SoakPostgres;
  redis: SoakRedis;
  emulator: EmulatorProcess;
  /** The soak's own connections: drivers, operator and checker. */
  pool: pg.Pool;
  logDir: string;
  /** Environment of every daemon process (and of the operator's CLI calls). */
  daemonEnv: Record<string, string>;
  /** Stops everything the stack started; keeps the daemons' logs when asked. */
  destroy(keepLogs: boolean): Promise<void>;
}

/**
 * Starts the soak's own Postgres (migrated), Redis and emulator. Whatever started is stopped
 * again if a later step fails, so a failed start leaves no server behind.
 */
export async function startStack(opts: { aof: boolean }): Promise<Stack> {
  const undo: (() => Promise<void>)[] = [];
  // Once only, however many callers (a signal can arrive while the normal clean-up runs).
  let unwinding: Promise<void> | null = null;
  const unwind = (): Promise<void> =>
    (unwinding ??= (async () => {
      for (const step of [...undo].reverse()) await step().catch(() => undefined);
    })());
  try {
    const logDir = await mkdtemp(join(tmpdir(), 'afilnet-chaos-logs-'));
    const postgres = await startSoakPostgres();
    undo.push(() => postgres.destroy());
    const redis = await startSoakRedis({ aof: opts.aof });
    undo.push(() => redis.destroy());
    const emulator = await startEmulatorProcess();
    undo.push(() => emulator.stop());
    await migrate(postgres.url);
    const setup = new pg.Client({ connectionString: postgres.url });
    await setup.connect();
    await setup.query(`${BAD_RECORDS_DDL}; ${HISTORY_DDL}`).finally(() => setup.end());
    const pool = new pg.Pool({
      connectionString: postgres.url,
      max: 12,
      connectionTimeoutMillis: 5_000,
      statement_timeout: 60_000,
    });
    // Idle connections die with every Postgres restart; that is expected here.
    pool.on('error', () => undefined);
    undo.push(() => pool.end());
    const daemonEnv: Record<string, string> = {
      DATABASE_URL: postgres.url,
      REDIS_URL: redis.url,
      QUEUE_PREFIX: 'chaos',
      AFILNET_BASE_URL: emulator.url,
      AFILNET_USER: 'demo',
      AFILNET_PASSWORD: 'demo',
      // Above the emulator's 400/s: the daemons must find the provider's limit themselves.
      AFILNET_RATE_LIMIT: '500',
      AFILNET_HEADERS_TIMEOUT_MS: '15000',
      SWEEP_AFTER_MS: '10000',
      SHUTDOWN_TIMEOUT_MS: '5000',
      // The mass-deletion guard would hold the soak's deletes for an operator; not under test.
      DELETE_GUARD_PERCENT: '100',
      DELETE_GUARD_MIN: '1000000000',
      ADMIN_PORT: '0',
      LOG_LEVEL: 'warn',
    };
    return {
      postgres,
      redis,
      emulator,
      pool,
      logDir,
      daemonEnv,
      async destroy(keepLogs) {
        await unwind();
        if (!keepLogs) await rm(logDir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await unwind();
    throw err;
  }
}
