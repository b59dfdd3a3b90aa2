import { Writable } from 'node:stream';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool, firstLineOf, POOL_DEFAULTS } from '../src/db/create-pool.ts';
import { createLogger } from '../src/observability/logger.ts';
import { createTestDatabase } from './support/stores.ts';

let database: Awaited<ReturnType<typeof createTestDatabase>>;
let pool: pg.Pool;
const lines: Record<string, unknown>[] = [];

beforeAll(async () => {
  database = await createTestDatabase({ migrate: false });
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  pool = createPool({
    ...POOL_DEFAULTS,
    connectionString: database.url,
    max: 2,
    applicationName: 'afilnet-sync-pool-test',
    statementTimeoutMs: 800,
    idleInTransactionTimeoutMs: 600,
    slowQueryMs: 300,
    logger: createLogger({ level: 'info' }, sink),
  });
});

afterAll(async () => {
  await pool?.end();
  await database?.drop();
});

describe('a pool made by createPool', () => {
  it('has the server cancel a statement that runs past statement_timeout', async () => {
    const started = Date.now();
    await expect(pool.query('SELECT pg_sleep(5)')).rejects.toMatchObject({ code: '57014' });
    expect(Date.now() - started).toBeLessThan(3_000);
    // The connection is usable again at once: the cancel ended the statement, not the session.
    expect((await pool.query<{ one: number }>('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
  });

  it('sets the server-side timeouts and the application name on every session', async () => {
    const res = await pool.query<{ st: string; iit: string; app: string }>(
      `SELECT current_setting('statement_timeout') AS st,
              current_setting('idle_in_transaction_session_timeout') AS iit,
              current_setting('application_name') AS app`,
    );
    expect(res.rows[0]).toEqual({ st: '800ms', iit: '600ms', app: 'afilnet-sync-pool-test' });
  });

  it('has the server end a session left idle inside a transaction', async () => {
    const client = await pool.connect();
    client.on('error', () => undefined);
    await client.query('BEGIN');
    await new Promise((r) => setTimeout(r, 1_200));
    await expect(client.query('SELECT 1')).rejects.toThrow();
    client.release(true);
  });

  it('logs a slow query with the first line of its SQL and never its parameters', async () => {
    lines.length = 0;
    await pool.query(
      `SELECT pg_sleep(0.4), $1::text AS secret_value -- slow on purpose
       FROM generate_series(1, 1)`,
      ['s3cr3t-parameter'],
    );
    const client = await pool.connect();
    try {
      await client.query('SELECT pg_sleep(0.35) AS checked_out');
      await client.query('SELECT 1 AS fast');
    } finally {
      client.release();
    }
    const slow = lines.filter((l) => l.msg === 'slow Postgres query');
    expect(slow.map((l) => l.sql)).toEqual([
      'SELECT pg_sleep(0.4), $1::text AS secret_value -- slow on purpose',
      'SELECT pg_sleep(0.35) AS checked_out',
    ]);
    expect(slow[0]?.ms).toBeGreaterThanOrEqual(300);
    expect(JSON.stringify(lines)).not.toContain('s3cr3t-parameter');
  });

  it('logs a query cancelled by the timeout as slow too', async () => {
    lines.length = 0;
    await pool.query('SELECT pg_sleep(3)').catch(() => undefined);
    expect(lines.some((l) => l.sql === 'SELECT pg_sleep(3)')).toBe(true);
  });
});

describe('firstLineOf', () => {
  it('skips blank lines and caps long ones', () => {
    expect(firstLineOf('\n\n   SELECT 1\nFROM x')).toBe('SELECT 1');
    expect(firstLineOf(`SELECT ${'x'.repeat(300)}`)).toHaveLength(161);
  });
});
