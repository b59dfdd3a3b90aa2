import type { Redis } from 'ioredis';
import type pg from 'pg';
import { migrationStatus } from '../db/migrate.ts';
import { withTimeout } from './with-timeout.ts';

/** One readiness check's outcome; `error` says what failed, never a credential. */
export interface CheckResult {
  ok: boolean;
  error?: string;
}

/** What /readyz answers: every check by name, and whether all passed. */
export interface Readiness {
  ready: boolean;
  checks: { postgres: CheckResult; redis: CheckResult; migrations: CheckResult };
}

export interface ReadinessDeps {
  pool: pg.Pool;
  redis: Redis;
  databaseUrl: string;
  /** How long one check may take before it counts as failed. */
  timeoutMs?: number;
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
 * Checks what the daemon needs to make progress: Postgres answers, Redis answers, every migration
 * is applied. The checks run in parallel, each bounded by a timeout.
 */
export async function checkReadiness(deps: ReadinessDeps): Promise<Readiness> {
  const ms = deps.timeoutMs ?? 2_000;
  const [postgres, redis, migrations] = await Promise.all([
    run(async () => {
      await withTimeout(deps.pool.query('SELECT 1'), ms, 'Postgres');
    }),
    run(async () => {
      // ioredis queues commands while disconnected (maxRetriesPerRequest: null), so a PING would
      // wait for the reconnect: a lost connection answers at once. One still being set up (just
      // after start) gets the PING and its timeout.
      if (!['ready', 'connect', 'connecting'].includes(deps.redis.status)) {
        throw new Error(`Redis connection is ${deps.redis.status}`);
      }
      await withTimeout(deps.redis.ping(), ms, 'Redis');
    }),
    run(async () => {
      const { pending, failed } = await withTimeout(
        migrationStatus(deps.databaseUrl),
        ms,
        'Postgres (migration status)',
      );
      if (failed.length > 0) throw new Error(`failed migrations: ${failed.join(', ')}`);
      if (pending.length > 0) throw new Error(`pending migrations: ${pending.join(', ')}`);
    }),
  ]);
  return {
    ready: postgres.ok && redis.ok && migrations.ok,
    checks: { postgres, redis, migrations },
  };
}
