import {
  ConfigError,
  loadAfilnetConfig,
  loadDatabaseUrl,
  loadStoresConfig,
  processEnv,
  type AfilnetConfig,
} from '../config/config.ts';
import type { Logger } from '../observability/logger.ts';
import { checkAfilnet } from './check-afilnet.ts';
import { failed, type CheckName, type CheckResult } from './check-result.ts';
import { checkDatabase, checkRedis } from './check-stores.ts';

export type { CheckName, CheckResult } from './check-result.ts';

/** One check's setting, or the configuration problems that keep it from running. */
type Setting<T> = { value: T } | { problems: string[] };

/** What the checks need from the environment, each read on its own so one gap hides nothing. */
export interface SetupSettings {
  database: Setting<string>;
  redis: Setting<string>;
  afilnet: Setting<Readonly<AfilnetConfig>>;
}

function read<T>(load: () => T): Setting<T> {
  try {
    return { value: load() };
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return { problems: err.problems };
  }
}

/** Reads each check's settings from the environment (src/config's schema and defaults). */
export function readSetupSettings(): SetupSettings {
  return {
    database: read(() => loadDatabaseUrl()),
    // The stores schema wants both URLs; a missing DATABASE_URL is the database check's line.
    redis: read(
      () => loadStoresConfig({ ...processEnv(), DATABASE_URL: 'postgres://unused' }).REDIS_URL,
    ),
    afilnet: read(() => loadAfilnetConfig()),
  };
}

const FIX_CONFIG: Record<CheckName, string> = {
  database: 'Set DATABASE_URL=postgres://user:password@host:5432/database.',
  redis: 'Set REDIS_URL=redis://host:6379.',
  afilnet: 'Set AFILNET_USER and AFILNET_PASSWORD (and AFILNET_BASE_URL if not the default).',
};

async function run<T>(
  name: CheckName,
  setting: Setting<T>,
  check: (value: T) => Promise<CheckResult>,
): Promise<CheckResult> {
  if ('value' in setting) return check(setting.value);
  return failed(name, `not configured: ${setting.problems.join('; ')}`, FIX_CONFIG[name]);
}

/** Runs every check side by side; the answer lists them in a fixed order. */
export async function runSetupChecks(settings: SetupSettings): Promise<CheckResult[]> {
  return Promise.all([
    run('database', settings.database, checkDatabase),
    run('redis', settings.redis, checkRedis),
    run('afilnet', settings.afilnet, checkAfilnet),
  ]);
}

/**
 * The daemon's start-up checks: Redis' eviction policy (the database's migrations are already a
 * hard gate). Credentials are proven by the daemon's first call instead, since an idle daemon
 * should not call Afilnet: a refusal there pauses the account and logs why. Logs each problem
 * with its fix; never throws.
 */
export async function logStartChecks(
  settings: Readonly<AfilnetConfig> & { REDIS_URL: string; START_CHECK_AFILNET: boolean },
  logger: Logger,
): Promise<void> {
  // The credentials cost one call (getgroupcolumns of a group no account has); a setting turns
  // it off where every call is counted (the test suite's exact-call assertions).
  const results = await Promise.all([
    checkRedis(settings.REDIS_URL),
    ...(settings.START_CHECK_AFILNET ? [checkAfilnet(settings)] : []),
  ]);
  for (const r of results) {
    if (r.ok) logger.info({ check: r.name, detail: r.detail }, 'start check passed');
    else logger.warn({ check: r.name, problem: r.detail, fix: r.fix }, 'start check failed');
  }
}
