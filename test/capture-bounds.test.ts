import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimOutbox } from '../src/capture/claim-outbox.ts';
import { captureTriggerProblems } from '../src/capture/capture-triggers.ts';
import { statusReport } from '../src/operator/status-report.ts';
import { createTestDatabase, testPool } from './support/stores.ts';

let database: Awaited<ReturnType<typeof createTestDatabase>>;
let pool: pg.Pool;

beforeAll(async () => {
  database = await createTestDatabase();
  pool = testPool(database.url, 6);
  await pool.query(`
    INSERT INTO groups (id, name, type, fields) VALUES ('g', 'G', 'mobile', '{mobile,name}');
    INSERT INTO contacts (id, mobile) SELECT 'c' || i, '3460000000' || i FROM generate_series(0, 9) i;
    INSERT INTO group_members SELECT 'g', id FROM contacts;`);
});

afterAll(async () => {
  await pool?.end();
  await database?.drop();
});

/** The outbox without the sentinel `backlog()` leaves as its oldest row. */
const outbox = async () =>
  (
    await pool.query<{ kind: string; group_id: string | null; contact_id: string | null }>(
      `SELECT kind, group_id, contact_id FROM sync_outbox WHERE group_id IS DISTINCT FROM 'sentinel' ORDER BY id`,
    )
  ).rows.map((r) => [r.kind, r.group_id, r.contact_id]);

/**
 * An outbox as a stopped daemon leaves it: its oldest row waits while more than the threshold
 * (100,000) ids have been handed out since. Capture coalesces from then on.
 */
async function backlog(): Promise<void> {
  await pool.query(`DELETE FROM sync_outbox;
    INSERT INTO sync_outbox (kind, group_id) VALUES ('group', 'sentinel');
    SELECT setval('sync_outbox_id_seq', (SELECT max(id) FROM sync_outbox) + 100001);`);
}

/** A client of its own, for a transaction left open while the test does something else. */
async function session(): Promise<pg.PoolClient> {
  const client = await pool.connect();
  client.on('error', () => undefined);
  return client;
}

describe('the outbox while no relay runs', () => {
  it('appends a row per write while the relay keeps up, without coalescing', async () => {
    await pool.query('DELETE FROM sync_outbox');
    for (let round = 0; round < 3; round++) {
      await pool.query(
        `UPDATE contacts SET attributes = jsonb_build_object('n', ${round}) WHERE id = 'c1'`,
      );
    }
    expect(await outbox()).toEqual([
      ['contact', null, 'c1'],
      ['contact', null, 'c1'],
      ['contact', null, 'c1'],
    ]);
  });

  it('holds one row per changed identity however many writes, once backlogged', async () => {
    await backlog();
    for (let round = 0; round < 20; round++) {
      await pool.query(`UPDATE contacts SET attributes = jsonb_build_object('n', ${round})`);
      await pool.query(`DELETE FROM group_members WHERE contact_id IN ('c1', 'c2')`);
      await pool.query(`INSERT INTO group_members VALUES ('g', 'c1'), ('g', 'c2')`);
      await pool.query(`UPDATE groups SET name = 'G${round}'`);
    }
    const rows = await outbox();
    expect(rows).toHaveLength(10 + 2 + 1);
    expect(rows).toContainEqual(['group', 'g', null]);
    expect(rows).toContainEqual(['member', 'g', 'c1']);
    expect(rows).toContainEqual(['contact', null, 'c9']);
    // status and metrics count the same rows (and the sentinel).
    expect((await statusReport({ pool })).lag.outboxRows).toBe(14);
  });

  it('keeps the first row, so the lag shown is that of the oldest waiting change', async () => {
    await backlog();
    await pool.query(`UPDATE contacts SET mobile = '34611111111' WHERE id = 'c0'`);
    const first = await pool.query<{ id: string; created_at: Date }>(
      `SELECT id, created_at FROM sync_outbox WHERE contact_id = 'c0'`,
    );
    await new Promise((r) => setTimeout(r, 20));
    await pool.query(`UPDATE contacts SET mobile = '34622222222' WHERE id = 'c0'`);
    const again = await pool.query<{ id: string; created_at: Date }>(
      `SELECT id, created_at FROM sync_outbox WHERE contact_id = 'c0'`,
    );
    expect(again.rows).toEqual(first.rows);
  });
});

describe('coalescing with a relay claiming concurrently', () => {
  it('keeps a waiting row from being claimed while a writer that coalesced into it is open', async () => {
    await backlog();
    await pool.query('DELETE FROM sync_dirty');
    await pool.query(`UPDATE contacts SET mobile = '34633333333' WHERE id = 'c3'`);
    const writer = await session();
    try {
      await writer.query('BEGIN');
      await writer.query(`UPDATE contacts SET mobile = '34644444444' WHERE id = 'c3'`);
      // Had the relay taken the row now, it would sync the old mobile and the writer's change,
      // committed a moment later, would have no row left to be synced by.
      expect((await claimOutbox(pool, 100)).claimed).toBe(1); // the sentinel only
      await writer.query('COMMIT');
    } finally {
      writer.release();
    }
    expect(await claimOutbox(pool, 100)).toEqual({
      claimed: 1,
      groups: ['g'],
      segmentGroups: [],
      segmentChanges: 0,
    });
  });

  it('records a new row for a writer that coalesced into a row the relay was deleting', async () => {
    await backlog();
    await pool.query(`UPDATE contacts SET mobile = '34655555555' WHERE id = 'c5'`);
    const relay = await session();
    const writer = await session();
    try {
      await relay.query('BEGIN');
      await relay.query(`DELETE FROM sync_outbox WHERE contact_id = 'c5'`);
      // The writer's capture waits for the relay's transaction to end…
      const writing = writer.query(`UPDATE contacts SET mobile = '34666666666' WHERE id = 'c5'`);
      await new Promise((r) => setTimeout(r, 200));
      await relay.query('COMMIT');
      await writing;
      // …and then records the change afresh.
      expect(await outbox()).toEqual([['contact', null, 'c5']]);
    } finally {
      relay.release();
      writer.release();
    }
  });
});

describe('capture that cannot be turned off by accident', () => {
  it('captures a write made under session_replication_role = replica', async () => {
    await pool.query('DELETE FROM sync_outbox');
    const client = await session();
    try {
      await client.query(`SET session_replication_role = replica`);
      await client.query(`UPDATE contacts SET mobile = '34677777777' WHERE id = 'c7'`);
      await client.query(`INSERT INTO contacts (id, mobile) VALUES ('r1', '34688888888')`);
      await client.query(`INSERT INTO group_members VALUES ('g', 'r1')`);
    } finally {
      await client.query('RESET session_replication_role');
      client.release();
    }
    expect(await outbox()).toEqual([
      ['contact', null, 'c7'],
      ['member', 'g', 'r1'],
    ]);
    await expect(captureTriggerProblems(pool)).resolves.toEqual([]);
  });

  it('reports a disabled capture trigger, in status too', async () => {
    await pool.query('ALTER TABLE group_members DISABLE TRIGGER group_members_capture_insert');
    await pool.query('ALTER TABLE contacts ENABLE TRIGGER contacts_capture_update');
    try {
      const problems = await captureTriggerProblems(pool);
      expect(problems).toEqual([
        expect.stringMatching(
          /^trigger contacts_capture_update on contacts does not fire under session_replication_role = replica/,
        ),
        expect.stringMatching(/^trigger group_members_capture_insert on group_members is disabled/),
      ]);
      expect((await statusReport({ pool })).captureProblems).toEqual(problems);
    } finally {
      await pool.query(
        'ALTER TABLE group_members ENABLE ALWAYS TRIGGER group_members_capture_insert',
      );
      await pool.query('ALTER TABLE contacts ENABLE ALWAYS TRIGGER contacts_capture_update');
    }
  });
});
