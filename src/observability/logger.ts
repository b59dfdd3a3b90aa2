import { pino, type Logger, type LoggerOptions } from 'pino';

/**
 * Every path a credential could travel under. pino's `*.x` matches exactly one level (a wildcard
 * path never reaches deeper keys), so the top level and each depth we use are listed.
 */
export const REDACT_PATHS = [
  'password',
  'AFILNET_PASSWORD',
  'ADMIN_TOKEN',
  'authorization',
  '*.password',
  '*.AFILNET_PASSWORD',
  '*.ADMIN_TOKEN',
  '*.authorization',
  '*.*.password',
  '*.*.authorization',
  'headers.authorization',
  'req.headers.authorization',
  'config.AFILNET_PASSWORD',
  'config.ADMIN_TOKEN',
];

/** Errors serialised through a whitelist: never a cause chain or a response body. */
function serializeError(err: unknown): Record<string, unknown> {
  if (!(err instanceof Error)) return { message: String(err) };
  const out: Record<string, unknown> = { type: err.name, message: err.message };
  for (const key of ['code', 'kind', 'method', 'status', 'apiCode', 'retryAfterMs'] as const) {
    const value = (err as unknown as Record<string, unknown>)[key];
    if (value !== undefined) out[key] = value;
  }
  if (err.stack) out.stack = err.stack;
  return out;
}

/**
 * The process's logger: JSON lines on stdout, or with `format: 'pretty'` (LOG_FORMAT=pretty)
 * readable lines through pino-pretty, a dev dependency that production images do not carry.
 * Redaction and serializers apply either way, before formatting.
 */
export function createLogger(
  options: { level?: string; name?: string; format?: 'json' | 'pretty' } = {},
  destination?: pino.DestinationStream,
): Logger {
  const opts: LoggerOptions = {
    level: options.level ?? 'info',
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    serializers: { err: serializeError, error: serializeError },
  };
  if (options.name) opts.name = options.name;
  if (destination) return pino(opts, destination);
  if (options.format === 'pretty') {
    try {
      import.meta.resolve('pino-pretty');
    } catch {
      throw new Error('LOG_FORMAT=pretty needs pino-pretty, a dev dependency: use LOG_FORMAT=json');
    }
    return pino({
      ...opts,
      transport: {
        target: 'pino-pretty',
        options: { destination: 1, translateTime: 'SYS:HH:MM:ss.l' },
      },
    });
  }
  return pino(opts);
}

export type { Logger };
