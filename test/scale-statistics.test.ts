import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KEPT_TABLES, StatisticsKeeper } from '../src/capture/keep-statistics.ts';
import { OutboxRelay } from '../src/capture/outbox-relay.ts';
import { createLogger } from '../src/observability/logger.ts';
import { createTestDatabase, testPool } from './support/stores.ts';

/**
 * Issue 12, "Stall after a bulk load": one statement makes 20,000 members; with autovacuum
 * turned off (or late), nothing analyses the tables, the planner takes the group for a few hundred
 * rows and hashes the whole group for every page of marks (quadratic: minutes at a million).
 */
const MEMBERS = 20_000;
let database: Awaited<ReturnType<typeof createTestDatabase>>;
let pool: pg.Pool;
const logger = createLogger({ level: 'silent' });

beforeEach(async () => {
  database = await createTestDatabase();
  pool = testPool(database.url, 3);
  // As on a server whose autovacuum has not come round yet (or is off).
  for (const t of KEPT_TABLES) await pool.query(`ALTER TABLE ${t} SET (autovacuum_enabled = off)`);
  await pool.query(
    `INSERT INTO groups (id, name, type, fields) VALUES ('g', 'g', 'mobile', '{mobile}')`,
  );
  await pool.query(
    `INSERT INTO contacts (id, mobile) SELECT 'c' || i, '36' || i FROM generate_series(1, $1::int) i`,
    [MEMBERS],
  );
  await pool.query(
    `INSERT INTO group_members (group_id, contact_id) SELECT 'g', 'c' || i FROM generate_series(1, $1::int) i`,
    [MEMBERS],
  );
  // Statistics counters reach pg_stat_user_tables when a backend flushes them (at most every
  // second): wait until the inserts show.
  for (let i = 0; i < 100; i++) {
    const res = await pool.query<{ n: string }>(
      `SELECT n_mod_since_analyze AS n FROM pg_stat_user_tables WHERE relname = 'group_members'`,
    );
    if (Number(res.rows[0]?.n) >= MEMBERS) break;
    await pool.query('SELECT pg_stat_force_next_flush()').catch(() => undefined);
    await new Promise((r) => setTimeout(r, 200));
  }
});

afterEach(async () => {
  await pool.end();
  await database.drop();
});

async function estimatedRows(table: string): Promise<number> {
  const res = await pool.query<{ n: number }>(
    `SELECT reltuples AS n FROM pg_class WHERE oid = $1::regclass`,
    [table],
  );
  return Number(res.rows[0]?.n);
}

/** Rows the planner expects for one group's members: what decides hash versus index. */
async function plannedGroupRows(): Promise<number> {
  const res = await pool.query<{ 'QUERY PLAN': { Plan: { 'Plan Rows': number } }[] }>(
    `EXPLAIN (FORMAT JSON) SELECT * FROM group_members WHERE group_id = 'g'`,
  );
  return res.rows[0]?.['QUERY PLAN'][0]?.Plan['Plan Rows'] ?? 0;
}

const relay = (statistics?: StatisticsKeeper | null) =>
  new OutboxRelay({
    pool,
    databaseUrl: database.url,
    enqueueGroups: () => Promise.resolve(),
    logger,
    pollMs: 60_000,
    batchSize: 5_000,
    ...(statistics === undefined ? {} : { statistics }),
  });

describe('statistics after a bulk load', () => {
  it('without the keeper the planner takes the new group for a few hundred rows (the defect)', async () => {
    await relay(null).drain();
    expect(await estimatedRows('sync_dirty')).toBeLessThan(1_000);
    expect(await plannedGroupRows()).toBeLessThan(MEMBERS / 10);
  });

  it('the relay analyses the marks and the memberships after claiming many rows', async () => {
    expect(await relay().drain()).toBeGreaterThanOrEqual(MEMBERS);
    expect(await estimatedRows('group_members')).toBeGreaterThan(MEMBERS * 0.9);
    expect(await plannedGroupRows()).toBeGreaterThan(MEMBERS * 0.9);
    // The marks: their counters reach the statistics a moment after the claims (the relay's next
    // passes see them).
    const keeper = new StatisticsKeeper(pool, logger);
    for (let i = 0; i < 50 && (await estimatedRows('sync_dirty')) < MEMBERS * 0.9; i++) {
      await keeper.maybeAnalyze({ force: true });
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(await estimatedRows('sync_dirty')).toBeGreaterThan(MEMBERS * 0.9);
  });

  it('a small change analyses nothing', async () => {
    await pool.query('ANALYZE');
    await pool.query(`INSERT INTO contacts (id, mobile) VALUES ('x', '1')`);
    expect(await new StatisticsKeeper(pool, logger).maybeAnalyze({ force: true })).toEqual([]);
  });
});
