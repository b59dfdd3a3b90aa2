import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LEARN_CHUNK, learnRemoteIds } from '../src/state/member-state.ts';
import { createTestDatabase, testPool } from './support/stores.ts';

/**
 * Issue 12, strict-docs after a bulk load: a million members synced without ids, one read of the
 * group staged in sync_remote_snapshot, then learnRemoteIds. As one UPDATE it ran past the pool's
 * 30 s statement_timeout, was cancelled, and the run read the whole group again, and again.
 * Each statement must stay bounded (at most LEARN_CHUNK members), whatever the group's size.
 */
const N = 3 * LEARN_CHUNK + 123;
let database: Awaited<ReturnType<typeof createTestDatabase>>;
let pool: pg.Pool;

beforeAll(async () => {
  database = await createTestDatabase();
  pool = testPool(database.url, 2);
  await pool.query(`INSERT INTO groups (id, name, type, fields) VALUES ('g', 'g', 'mobile', '{mobile}'),
                                                                      ('h', 'h', 'mobile', '{mobile}')`);
  // Members synced without ids; c1 already holds remote id 2 (c2's remote copy as seen remotely).
  await pool.query(
    `INSERT INTO sync_member_state (group_id, contact_id, remote_id, main_value, synced_fields, uncertain)
     SELECT 'g', 'c' || i, CASE WHEN i = 1 THEN '2' END, '36' || i, '{}'::jsonb, i = 3
     FROM generate_series(1, $1::int) i`,
    [N],
  );
  // The remote group: one contact per member, plus a second contact with member 4's value.
  await pool.query(
    `INSERT INTO sync_remote_snapshot (group_id, idcontact, main, fields)
     SELECT 'g', i::text, '36' || i, '{}'::jsonb FROM generate_series(1, $1::int) i
     UNION ALL SELECT 'g', 'dup', '364', '{}'::jsonb
     UNION ALL SELECT 'h', '5', '365', '{}'::jsonb`,
    [N],
  );
});

afterAll(async () => {
  await pool.end();
  await database.drop();
});

describe('learnRemoteIds over a big group', () => {
  it('learns every id it may, in statements of at most LEARN_CHUNK members', async () => {
    const counts: number[] = [];
    const recording = {
      query: async (text: string, values?: unknown[]) => {
        const res = await pool.query(text, values);
        // An UPDATE's rowCount is the rows it changed; the chunked form answers one row.
        counts.push(res.command === 'UPDATE' ? (res.rowCount ?? 0) : (res.rows.length ?? 0));
        return res;
      },
    } as unknown as pg.Pool;
    await learnRemoteIds(recording, 'g');
    expect(Math.max(...counts)).toBeLessThanOrEqual(LEARN_CHUNK);

    const res = await pool.query<{ contact_id: string; remote_id: string | null }>(
      `SELECT contact_id, remote_id FROM sync_member_state WHERE group_id = 'g'`,
    );
    const ids = new Map(res.rows.map((r) => [r.contact_id, r.remote_id]));
    expect(ids.get('c1')).toBe('2'); // kept
    expect(ids.get('c2')).toBeNull(); // its remote copy's id is c1's
    expect(ids.get('c3')).toBeNull(); // uncertain: settled by a look-up, not here
    expect(ids.get('c4')).toBeNull(); // two remote contacts hold its value
    expect(ids.get('c5')).toBe('5'); // another group's snapshot is not this one's
    expect(ids.get(`c${N}`)).toBe(String(N));
    expect([...ids.values()].filter((v) => v !== null).length).toBe(N - 3);
  });

  it('a second pass learns nothing more', async () => {
    expect(await learnRemoteIds(pool, 'g')).toBe(0);
  });
});
