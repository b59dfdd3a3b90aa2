import type { Redis } from 'ioredis';
import type pg from 'pg';
import { captureTriggerProblems } from '../capture/capture-triggers.ts';
import { compareHistory, readHistory } from '../db/migration-history.ts';
import {
  migrationsDirOf,
  PRISMA_DIR,
  readMigrations,
  type MigrationFile,
} from '../db/migrations-folder.ts';
import { withTimeout } from './with-timeout.ts';

/** One readiness check's outcome; `error` says what failed, never a credential. */
export interface CheckResult {
  ok: boolean;
  error?: string;
}

/** What /readyz knows: every check by name, whether all passed, and warnings that do not fail it. */
export interface Readiness {
  ready: boolean;
  checks: {
    postgres: CheckResult;
    redis: CheckResult;
    migrations: CheckResult;
    /** Afilnet accepts the account's calls (not paused after an account-wide refusal). */
    account: CheckResult;
  };
  /** E.g. a disabled capture trigger: the daemon runs, but some writes are not synced. */
  warnings: string[];
}

export interface ReadinessDeps {
  /** A pool of the daemon's: a probe borrows one of its connections, never opens its own. */
  pool: pg.Pool;
  redis: Redis;
  /** How long one check may take before it counts as failed. */
  timeoutMs?: number;
  /** How long an answer is reused: probes arriving together cost one check. */
  cacheMs?: number;
  migrationsDir?: string;
  /** The account pause, if any (the daemon degrades while Afilnet refuses the account). */
  accountPause?: () => Promise<{ reason: string } | null>;
}

async function run(check: () => Promise<void>): Promise<CheckResult> {
  try {
    await check();
    return { ok: true };
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err) };
  }
}

/**
 * Returns the readiness check of /readyz: Postgres answers, Redis answers, every migration is
 * applied; disabled capture triggers are warnings. The Postgres side runs on one connection
 * borrowed from the pool (the old check opened a new connection per probe, so a probe storm
 * could exhaust max_connections); Postgres and Redis are checked in parallel, each within
 * `timeoutMs`. A result is reused for `cacheMs`, and callers arriving while a check runs share
 * it, so any number of probes costs at most one check per `cacheMs`.
 */
export function createReadinessCheck(deps: ReadinessDeps): () => Promise<Readiness> {
  const ms = deps.timeoutMs ?? 2_000;
  const cacheMs = deps.cacheMs ?? 1_000;
  let files: Promise<MigrationFile[]> | null = null;
  let current: Promise<Readiness> | null = null;
  let doneAt = 0;

  const checkDatabase = async (): Promise<{
    postgres: CheckResult;
    migrations: CheckResult;
    warnings: string[];
  }> => {
    let client: pg.PoolClient;
    const connecting = deps.pool.connect();
    try {
      client = await withTimeout(connecting, ms, 'Postgres');
    } catch (err) {
      // A connection that arrives after the timeout goes straight back to the pool.
      connecting.then(
        (late) => late.release(),
        () => undefined,
      );
      const failed = { ok: false, error: err instanceof Error ? err.message : String(err) };
      return {
        postgres: failed,
        migrations: { ok: false, error: 'Postgres is unreachable' },
        warnings: [],
      };
    }
    let broken: Error | undefined;
    try {
      const postgres = await run(async () => {
        await withTimeout(client.query('SELECT 1'), ms, 'Postgres');
      });
      if (!postgres.ok) broken = new Error('readiness query failed');
      const migrations = postgres.ok
        ? await run(async () => {
            files ??= readMigrations(deps.migrationsDir ?? migrationsDirOf(PRISMA_DIR));
            const history = compareHistory(
              await files,
              await withTimeout(readHistory(client), ms, 'Postgres (migration status)'),
            );
            const failed = history.failed.map((r) => r.migration_name);
            if (failed.length > 0) throw new Error(`failed migrations: ${failed.join(', ')}`);
            const pending = history.pending.map((f) => f.name);
            if (pending.length > 0) throw new Error(`pending migrations: ${pending.join(', ')}`);
          })
        : { ok: false, error: 'Postgres is unreachable' };
      const warnings = postgres.ok
        ? await withTimeout(captureTriggerProblems(client), ms, 'Postgres').catch((err: Error) => [
            `could not read the capture triggers: ${err.message}`,
          ])
        : [];
      return { postgres, migrations, warnings };
    } catch (err) {
      broken = err instanceof Error ? err : new Error(String(err));
      const failed = { ok: false, error: broken.message };
      return { postgres: failed, migrations: failed, warnings: [] };
    } finally {
      // A connection whose query timed out may still be busy: discard it rather than reuse it.
      client.release(broken);
    }
  };

  const checkRedis = () =>
    run(async () => {
      // ioredis queues commands while disconnected (maxRetriesPerRequest: null), so a PING would
      // wait for the reconnect: a lost connection answers at once. One still being set up (just
      // after start) gets the PING and its timeout.
      if (!['ready', 'connect', 'connecting'].includes(deps.redis.status)) {
        throw new Error(`Redis connection is ${deps.redis.status}`);
      }
      await withTimeout(deps.redis.ping(), ms, 'Redis');
    });

  const checkAll = async (): Promise<Readiness> => {
    const [database, redis, account] = await Promise.all([
      checkDatabase(),
      checkRedis(),
      run(async () => {
        // Unreadable (Redis down) is the redis check's failure, not the account's.
        const pause = await withTimeout(
          deps.accountPause?.() ?? Promise.resolve(null),
          ms,
          'Redis',
        ).catch(() => null);
        if (pause) throw new Error(`account paused: ${pause.reason}`);
      }),
    ]);
    const { postgres, migrations, warnings } = database;
    return {
      ready: postgres.ok && redis.ok && migrations.ok && account.ok,
      checks: { postgres, redis, migrations, account },
      warnings,
    };
  };

  return () => {
    if (current !== null && (doneAt === 0 || performance.now() - doneAt < cacheMs)) return current;
    doneAt = 0;
    const check = checkAll().finally(() => {
      doneAt = performance.now();
    });
    current = check;
    return check;
  };
}
