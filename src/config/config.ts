import { z } from 'zod';

/** Thrown when the environment does not satisfy the schema; lists every bad or missing variable. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const positiveInt = (def: number) => z.coerce.number().int().positive().default(def);

const afilnetSchema = z.object({
  AFILNET_BASE_URL: z.url().default('https://www.afilnet.com'),
  AFILNET_USER: z.string().min(1),
  AFILNET_PASSWORD: z.string().min(1),
  AFILNET_AUTH: z.enum(['post', 'basic']).default('post'),
  AFILNET_CONNECT_TIMEOUT_MS: positiveInt(10_000),
  AFILNET_HEADERS_TIMEOUT_MS: positiveInt(30_000),
  AFILNET_BODY_TIMEOUT_MS: positiveInt(120_000),
  AFILNET_CONNECTIONS: positiveInt(8),
});

const storesSchema = z.object({
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL'),
  REDIS_URL: z.string().regex(/^rediss?:\/\//, 'must be a redis:// URL'),
  QUEUE_PREFIX: z.string().min(1).default('afilnet-sync'),
});

const syncSchema = z.object({
  AFILNET_RATE_LIMIT: z.coerce.number().positive().default(10),
  // The longest Retry-After honoured: a provider's "86400" must not freeze the account for a
  // day; 2^31 - 1 ms is the most Node's timers can wait.
  AFILNET_MAX_RETRY_AFTER_MS: z.coerce
    .number()
    .int()
    .positive()
    .max(2 ** 31 - 1)
    .default(300_000),
  AFILNET_BATCH_SIZE: positiveInt(500),
  BATCH_WINDOW_MS: z.coerce.number().int().min(0).default(200),
  SYNC_CONCURRENCY: positiveInt(8),
  SYNC_MAX_ATTEMPTS: positiveInt(12),
  MAX_FIELD_LENGTH: positiveInt(255),
  DELETE_GUARD_PERCENT: z.coerce.number().min(0).max(100).default(20),
  DELETE_GUARD_MIN: z.coerce.number().int().min(0).default(100),
  DELETE_GUARD_WINDOW_MS: positiveInt(3_600_000),
  DELETE_GUARD_FLOOR: z.coerce.number().int().min(0).default(10),
  /** Member deletes beyond this share of a group within 24 hours are held (a slow wipe). */
  DELETE_GUARD_DAY_PERCENT: z.coerce.number().min(0).max(100).default(50),
  SWEEP_AFTER_MS: positiveInt(30_000),
  /**
   * A contact removed in Afilnet (panel delete, unsubscribe): respect records it as opted out
   * and never re-adds it until an operator clears it; readd puts it back (the old behaviour).
   */
  REMOTE_REMOVALS: z.enum(['respect', 'readd']).default('respect'),
  /**
   * Scheduled drift checks: an interval (`6h`) or a 5-field cron expression (UTC); unset: none.
   * Read fully by src/resync/drift-schedule.ts at start.
   */
  DRIFT_CHECK_SCHEDULE: z
    .string()
    .regex(/^(\d+\s*[smhd]|\S+(\s+\S+){4})$/, 'an interval like 6h, or a cron expression')
    .optional(),
  /** A drift check repairs a group by itself when its drift is at most this many members. */
  DRIFT_AUTO_APPLY_MAX: z.coerce.number().int().min(0).default(0),
  /** shadow: plan and record the calls a run would make, send none and change no sync state. */
  SYNC_MODE: z.enum(['live', 'shadow']).default('live'),
  /** While the account is paused (Afilnet refuses every call), one probe call this often. */
  ACCOUNT_PROBE_MS: positiveInt(30_000),
  RELAY_POLL_MS: positiveInt(1_000),
  RELAY_BATCH: positiveInt(5_000),
  /** How often a segment whose result can change by itself (now(), other tables) is re-evaluated. */
  SEGMENT_REFRESH_MS: positiveInt(300_000),
  /** The statement timeout of one whole evaluation of a segment. */
  SEGMENT_TIMEOUT_MS: positiveInt(60_000),
  SHUTDOWN_TIMEOUT_MS: positiveInt(30_000),
  ADMIN_PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  ADMIN_HOST: z.string().default('127.0.0.1'),
  ADMIN_TOKEN: z.string().min(16).optional(),
  /** Trust X-Forwarded-Proto from a TLS-terminating proxy in front (marks the UI cookie Secure). */
  ADMIN_TRUST_PROXY: z
    .enum(['true', 'false', '1', '0'])
    .default('false')
    .transform((v) => v === 'true' || v === '1'),
  /** At start, check the Afilnet credentials with one cheap call (logged like `check`). */
  START_CHECK_AFILNET: z
    .enum(['true', 'false', '1', '0'])
    .default('true')
    .transform((v) => v === 'true' || v === '1'),
  // Bounds of the daemon's Postgres pool (src/db/create-pool.ts); 0 turns a timeout off.
  DATABASE_CONNECT_TIMEOUT_MS: positiveInt(10_000),
  DATABASE_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(0).default(30_000),
  DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: z.coerce.number().int().min(0).default(300_000),
  DATABASE_IDLE_TIMEOUT_MS: z.coerce.number().int().min(0).default(30_000),
  DATABASE_SLOW_QUERY_MS: z.coerce.number().int().min(0).default(5_000),
  // History kept, in days (src/db/retention.ts); the delete log also feeds the delete guard.
  RETENTION_DELETE_LOG_DAYS: positiveInt(30),
  RETENTION_HOLDS_DAYS: positiveInt(90),
  RETENTION_RESYNC_DAYS: positiveInt(30),
  /**
   * OpenTelemetry traces (src/observability/tracing.ts): off unless set. The OTLP/HTTP exporter
   * reads this and its other standard variables (OTEL_EXPORTER_OTLP_HEADERS, …) itself.
   */
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url().optional(),
  OTEL_SERVICE_NAME: z.string().default('afilnet-sync'),
  /** How long finished spans wait to be exported in one batch (the SDK no longer reads it). */
  OTEL_BSP_SCHEDULE_DELAY: z.coerce.number().int().min(0).default(5_000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  // json: one object per line, for log shippers; pretty: readable lines (pino-pretty, a dev tool).
  LOG_FORMAT: z.enum(['json', 'pretty']).default('json'),
});

export const daemonSchema = afilnetSchema.extend(storesSchema.shape).extend(syncSchema.shape);

export type AfilnetConfig = z.infer<typeof afilnetSchema>;
export type StoresConfig = z.infer<typeof storesSchema>;
export type DaemonConfig = z.infer<typeof daemonSchema>;

type Env = Record<string, string | undefined>;

function parse<S extends z.ZodType>(schema: S, env: Env): Readonly<z.infer<S>> {
  // Empty strings count as unset, as in most daemons' env handling.
  const cleaned = Object.fromEntries(
    Object.entries(env).filter(([, v]) => v !== undefined && v !== ''),
  );
  const result = schema.safeParse(cleaned);
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((i) => {
        const name = i.path.join('.');
        return cleaned[name] === undefined
          ? `${name}: missing (${i.message})`
          : `${name}: ${i.message}`;
      }),
    );
  }
  return Object.freeze(result.data);
}

/** The process environment; the only place outside tests that reads it. */
export function processEnv(): Env {
  return process.env;
}

export const loadAfilnetConfig = (env: Env = processEnv()): Readonly<AfilnetConfig> =>
  parse(afilnetSchema, env);
export const loadStoresConfig = (env: Env = processEnv()): Readonly<StoresConfig> =>
  parse(storesSchema, env);
export const loadDaemonConfig = (env: Env = processEnv()): Readonly<DaemonConfig> =>
  parse(daemonSchema, env);

const databaseSchema = storesSchema.pick({ DATABASE_URL: true });

/** DATABASE_URL alone, for tools that touch only Postgres (migrations, the drift check). */
export const loadDatabaseUrl = (env: Env = processEnv()): string =>
  parse(databaseSchema, env).DATABASE_URL;

const postgresUrl = z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL');

const demoSchema = z
  .object({
    DATABASE_URL: postgresUrl.optional(),
    DEMO_DATABASE_URL: postgresUrl.optional(),
    REDIS_URL: storesSchema.shape.REDIS_URL,
  })
  .refine((c) => c.DATABASE_URL !== undefined || c.DEMO_DATABASE_URL !== undefined, {
    message: 'set DATABASE_URL (the demo creates its own database there) or DEMO_DATABASE_URL',
    path: ['DATABASE_URL'],
  });

export type DemoConfig = z.infer<typeof demoSchema>;

/**
 * `npm run demo`: REDIS_URL, and either DEMO_DATABASE_URL (an empty database the demo migrates
 * and fills) or DATABASE_URL (whose server gets a throwaway demo_<random> database).
 */
export const loadDemoConfig = (env: Env = processEnv()): Readonly<DemoConfig> =>
  parse(demoSchema, env);
