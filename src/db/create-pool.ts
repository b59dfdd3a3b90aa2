import pg from 'pg';
import type { Logger } from '../observability/logger.ts';

/** How a pool bounds its connections and queries. Every time is in milliseconds; 0 turns it off. */
export interface PoolSettings {
  connectionString: string;
  max: number;
  /** Shown in pg_stat_activity, so an operator can tell the daemon's sessions apart. */
  applicationName: string;
  /** Bounds both opening a connection and waiting for a free one in the pool. */
  connectTimeoutMs: number;
  /** Server-side: a statement running longer is cancelled (SQLSTATE 57014). */
  statementTimeoutMs: number;
  /** Server-side: a session left idle inside a transaction this long is ended by the server. */
  idleInTransactionTimeoutMs: number;
  /** An idle pooled connection is closed after this long. */
  idleTimeoutMs: number;
  /** TCP keep-alive probes start after this much silence, so a dead peer is noticed. */
  keepAliveDelayMs: number;
  /** A query taking at least this long is logged (warn) with the first line of its SQL. */
  slowQueryMs: number;
  logger: Logger;
}

/** The daemon's defaults; callers override what their use needs. */
export const POOL_DEFAULTS = {
  connectTimeoutMs: 10_000,
  statementTimeoutMs: 30_000,
  idleInTransactionTimeoutMs: 300_000,
  idleTimeoutMs: 30_000,
  keepAliveDelayMs: 10_000,
  slowQueryMs: 5_000,
} as const;

/** The first non-blank line of a statement, trimmed and capped: enough to find it, never values. */
export function firstLineOf(text: string): string {
  const line = text.split('\n').find((l) => l.trim() !== '') ?? '';
  const trimmed = line.trim();
  return trimmed.length > 160 ? `${trimmed.slice(0, 160)}…` : trimmed;
}

type QueryCallback = (err: Error | null, res?: unknown) => void;
type AnyQuery = (this: pg.Client, ...args: unknown[]) => unknown;

/**
 * A pg.Client whose queries are timed. pg-pool calls `client.query(text, values, callback)` for
 * `pool.query` and callers of checked-out clients use the promise form, so both are wrapped;
 * submittables (COPY streams, cursors) are passed through untimed: their duration is the
 * caller's streaming, not the server's work.
 */
function timedClient(slowMs: number, logger: Logger): typeof pg.Client {
  // eslint-disable-next-line @typescript-eslint/unbound-method -- called with apply(this, …)
  const original = pg.Client.prototype.query as unknown as AnyQuery;
  const report = (text: string, started: number): void => {
    const ms = Math.round(performance.now() - started);
    // Only the first line of the SQL: parameters are never logged, and literals rarely sit there.
    if (ms >= slowMs) logger.warn({ ms, sql: firstLineOf(text) }, 'slow Postgres query');
  };
  function query(this: pg.Client, config: unknown, values?: unknown, callback?: unknown): unknown {
    const call = (...args: unknown[]) => original.apply(this, args);
    const submittable = typeof (config as { submit?: unknown } | null)?.submit === 'function';
    const text = typeof config === 'string' ? config : (config as { text?: unknown } | null)?.text;
    if (submittable || typeof text !== 'string' || slowMs <= 0)
      return call(config, values, callback);
    const started = performance.now();
    if (typeof values === 'function') [callback, values] = [values, undefined];
    if (typeof callback === 'function') {
      const cb = callback as QueryCallback;
      return call(config, values, (err: Error | null, res?: unknown) => {
        report(text, started);
        cb(err, res);
      });
    }
    return (call(config, values) as Promise<unknown>).then(
      (res) => {
        report(text, started);
        return res;
      },
      (err: unknown) => {
        report(text, started);
        throw err;
      },
    );
  }
  class TimedClient extends pg.Client {}
  // Set on the prototype rather than declared: pg's overloads of query cannot be restated.
  Object.defineProperty(TimedClient.prototype, 'query', { value: query, writable: true });
  return TimedClient;
}

/**
 * A pg.Pool with every bound an unattended daemon needs: connection and pool-wait timeouts,
 * statement and idle-in-transaction timeouts enforced by the server (so an abandoned query or a
 * leaked transaction ends there, releasing its locks and its connection), an idle timeout, TCP
 * keep-alive, and a warning for each slow query. Idle connections that fail are logged, not
 * thrown: unhandled, the pool's 'error' event would end the process.
 */
export function createPool(settings: PoolSettings): pg.Pool {
  const positive = (ms: number) => (ms > 0 ? ms : undefined);
  const pool = new pg.Pool({
    connectionString: settings.connectionString,
    max: settings.max,
    application_name: settings.applicationName,
    connectionTimeoutMillis: positive(settings.connectTimeoutMs),
    statement_timeout: positive(settings.statementTimeoutMs) ?? 0,
    idle_in_transaction_session_timeout: positive(settings.idleInTransactionTimeoutMs) ?? 0,
    idleTimeoutMillis: positive(settings.idleTimeoutMs) ?? 0,
    keepAlive: true,
    keepAliveInitialDelayMillis: settings.keepAliveDelayMs,
    Client: timedClient(settings.slowQueryMs, settings.logger),
  });
  pool.on('error', (err) => settings.logger.warn({ err }, 'idle Postgres connection failed'));
  return pool;
}
