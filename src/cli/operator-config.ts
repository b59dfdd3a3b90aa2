import {
  ConfigError,
  daemonSchema,
  loadDatabaseUrl,
  loadStoresConfig,
  processEnv,
} from '../config/config.ts';
import { openOperatorStores, type OperatorStores } from '../composition/open-operator-stores.ts';
import type { GroupQueue } from '../sync/group-queue.ts';

/**
 * The daemon settings the operator commands share with it: the rate ceiling `status` reports,
 * and the attempts given to jobs `retry` and `approve-deletes` enqueue. Read from the same schema
 * as the daemon's (same defaults and checks) without demanding Afilnet credentials, which these
 * commands never use.
 */
const operatorSchema = daemonSchema.pick({ AFILNET_RATE_LIMIT: true, SYNC_MAX_ATTEMPTS: true });

function loadOperatorSettings(): { AFILNET_RATE_LIMIT: number; SYNC_MAX_ATTEMPTS: number } {
  // Empty strings count as unset, as in src/config.
  const env = Object.fromEntries(
    Object.entries(processEnv()).filter(([, v]) => v !== undefined && v !== ''),
  );
  const parsed = operatorSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  }
  return parsed.data;
}

/** Stores and settings for one operator command; close `stores` when done. */
export interface OperatorContext {
  stores: OperatorStores;
  /** QUEUE_PREFIX; null for Postgres-only commands. */
  prefix: string | null;
  rateCeiling: number;
}

/**
 * Reads the environment (a ConfigError reaches the root command, which prints it) and connects.
 * `redis: false` for commands that touch Postgres only: they need DATABASE_URL alone, so a CRM
 * host can run `import` without knowing where Redis is.
 */
export async function openOperatorContext(opts: { redis: boolean }): Promise<OperatorContext> {
  const settings = loadOperatorSettings();
  if (!opts.redis) {
    const databaseUrl = loadDatabaseUrl();
    return {
      stores: await openOperatorStores({ databaseUrl }),
      prefix: null,
      rateCeiling: settings.AFILNET_RATE_LIMIT,
    };
  }
  const stores = loadStoresConfig();
  return {
    stores: await openOperatorStores({
      databaseUrl: stores.DATABASE_URL,
      prefix: stores.QUEUE_PREFIX,
      maxAttempts: settings.SYNC_MAX_ATTEMPTS,
      redisUrl: stores.REDIS_URL,
    }),
    prefix: stores.QUEUE_PREFIX,
    rateCeiling: settings.AFILNET_RATE_LIMIT,
  };
}

/** Runs `use` with an open context, closing it whatever happens. */
export async function withOperatorContext<T>(
  opts: { redis: boolean },
  use: (ctx: OperatorContext) => Promise<T>,
): Promise<T> {
  const ctx = await openOperatorContext(opts);
  try {
    return await use(ctx);
  } finally {
    await ctx.stores.close();
  }
}

/** The group queue of a context opened with Redis. */
export function queueOf(ctx: OperatorContext): GroupQueue {
  if (!ctx.stores.queue) throw new Error('unreachable: the queue is opened with Redis');
  return ctx.stores.queue;
}
