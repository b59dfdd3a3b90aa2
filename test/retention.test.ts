import { Writable } from 'node:stream';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pruneHistory, startRetention } from '../src/db/retention.ts';
import { createLogger } from '../src/observability/logger.ts';
import { waitFor } from './support/harness.ts';
import { createTestDatabase, testPool } from './support/stores.ts';

let database: Awaited<ReturnType<typeof createTestDatabase>>;
let pool: pg.Pool;
const SETTINGS = { deleteLogDays: 2, holdsDays: 10, resyncDays: 5, batchSize: 7 };

beforeAll(async () => {
  database = await createTestDatabase();
  pool = testPool(database.url, 4);
});

afterAll(async () => {
  await pool?.end();
  await database?.drop();
});

/** Rows by age in days: `old` past every setting, `recent` within every one. */
async function seed(): Promise<void> {
  await pool.query(`
    TRUNCATE sync_delete_log, sync_holds, sync_resync_runs, sync_resync_items, sync_group_state;
    INSERT INTO sync_delete_log (group_id, count, at)
      SELECT 'g', 1, now() - interval '3 days' FROM generate_series(1, 30)
      UNION ALL SELECT 'g', 1, now() - interval '1 day' FROM generate_series(1, 4);
    INSERT INTO sync_holds (group_id, kind, count, reason, created_at, approved_at) VALUES
      ('g', 'deletes', 5, 'approved long ago', now() - interval '40 days', now() - interval '20 days'),
      ('g', 'deletes', 5, 'approved lately', now() - interval '40 days', now() - interval '2 days'),
      ('g', 'deletegroup', 1, 'still open', now() - interval '400 days', NULL);
    INSERT INTO sync_resync_runs (id, started_by, dry_run, group_ids, status, started_at, finished_at) VALUES
      (1, 't', false, '{g}', 'done', now() - interval '9 days', now() - interval '9 days'),
      (2, 't', true, '{g}', 'planned', now() - interval '8 days', now() - interval '8 days'),
      (3, 't', false, '{g}', 'applying', now() - interval '30 days', NULL),
      (4, 't', false, '{g}', 'planned', now() - interval '30 days', now() - interval '30 days'),
      (5, 't', false, '{g}', 'done', now() - interval '1 day', now() - interval '1 day');
    INSERT INTO sync_resync_items (run_id, group_id, kind)
      SELECT r, 'g', 'add' FROM generate_series(1, 5) r, generate_series(1, 20);
    -- Run 4 is planned and waiting for its group's worker to apply it: it must stay.
    INSERT INTO sync_group_state (group_id, resync_run_id) VALUES ('g', 4);`);
}

const count = async (sql: string): Promise<number> =>
  Number((await pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${sql}`)).rows[0]?.n);

describe('pruning the history tables', () => {
  it('removes only rows older than each setting, approved holds and finished unreferenced runs', async () => {
    await seed();
    const counts = await pruneHistory(pool, SETTINGS);
    expect(counts).toEqual({ deleteLog: 30, holds: 1, resyncRuns: 2, resyncItems: 40 });
    expect(await count('sync_delete_log')).toBe(4);
    const holds = await pool.query<{ reason: string }>('SELECT reason FROM sync_holds ORDER BY id');
    expect(holds.rows.map((r) => r.reason)).toEqual(['approved lately', 'still open']);
    const runs = await pool.query<{ id: string }>('SELECT id FROM sync_resync_runs ORDER BY id');
    expect(runs.rows.map((r) => Number(r.id))).toEqual([3, 4, 5]);
    expect(await count('sync_resync_items WHERE run_id IN (1, 2)')).toBe(0);
    expect(await count('sync_resync_items')).toBe(60);
  });

  it('deletes in batches of at most batchSize rows, each its own transaction', async () => {
    await seed();
    // Each deleted row records the transaction that deleted it.
    await pool.query(`
      CREATE TABLE deleted_by (tbl text, xact xid8);
      CREATE FUNCTION note_delete() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN INSERT INTO deleted_by VALUES (TG_TABLE_NAME, pg_current_xact_id()); RETURN NULL; END $$;
      CREATE TRIGGER note AFTER DELETE ON sync_delete_log FOR EACH ROW EXECUTE FUNCTION note_delete();
      CREATE TRIGGER note AFTER DELETE ON sync_resync_items FOR EACH ROW EXECUTE FUNCTION note_delete();`);
    try {
      await pruneHistory(pool, SETTINGS);
      const per = await pool.query<{ tbl: string; xacts: string; biggest: string }>(
        `SELECT tbl, count(*) AS xacts, max(n) AS biggest
         FROM (SELECT tbl, xact, count(*) AS n FROM deleted_by GROUP BY tbl, xact) t GROUP BY tbl ORDER BY tbl`,
      );
      // 30 log rows in batches of 7: 5 transactions; 20 items of each of 2 runs: 3 each.
      expect(per.rows.map((r) => [r.tbl, Number(r.xacts), Number(r.biggest)])).toEqual([
        ['sync_delete_log', 5, 7],
        ['sync_resync_items', 6, 7],
      ]);
    } finally {
      await pool.query(`DROP TRIGGER note ON sync_delete_log; DROP TRIGGER note ON sync_resync_items;
        DROP FUNCTION note_delete(); DROP TABLE deleted_by;`);
    }
  });

  it('runs on a schedule, as the daemon starts it, and logs what it removed', async () => {
    await seed();
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _e, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const running = startRetention(pool, SETTINGS, createLogger({ level: 'info' }, sink), {
      firstAfterMs: 50,
      everyMs: 60_000,
    });
    try {
      await waitFor(async () => (await count('sync_delete_log')) === 4, 5_000, 'a pruning pass');
      await waitFor(
        async () => Promise.resolve(lines.some((l) => l.includes('history pruned'))),
        2_000,
      );
    } finally {
      await running.stop();
    }
  });
});
