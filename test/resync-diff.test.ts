import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { correctSlice, recordResyncedColumns } from '../src/state/resync-corrections.ts';
import {
  bindDiff,
  diffStatements,
  INSERT_ITEMS_SQL,
  NAME_DELETE_ROWS_SQL,
} from '../src/resync/diff-sql.ts';
import { createRun } from '../src/resync/resync-store.ts';
import { createTestDatabase, testPool } from './support/stores.ts';

// The emulator refuses a second contact with the same main value on every path, so remote
// duplicates cannot be made through the Afilnet client: these cases stage a remote group as the
// read would, and run the resync's own diff and correction SQL on it.

const FIELDS = ['mobile', 'name'];

/** Remote contacts as staged by a read: id, main value (or none) and name. */
const REMOTE: [string, string | null, string][] = [
  ['10', 'A', 'a'],
  ['11', 'A', 'a'],
  ['21', 'B', 'b'],
  ['20', 'B', 'b'],
  ['30', 'C', 'remote'],
  ['50', 'E', 'e'],
  ['60', null, 'no main'],
  ['70', 'F', 'f'],
  ['90', 'G', 'g'],
  ['100', 'H', 'h'],
  ['99', 'H', 'h'],
];

describe('the resync diff, on a staged remote group', () => {
  let db: { url: string; drop: () => Promise<void> };
  let pool: pg.Pool;
  let client: pg.PoolClient;
  let runId: string;
  beforeAll(async () => {
    db = await createTestDatabase();
    pool = testPool(db.url);
    await pool.query(`
      INSERT INTO groups (id, name, type, fields) VALUES ('d', 'D', 'mobile', '{mobile,name}');
      INSERT INTO contacts (id, mobile, attributes) VALUES
        ('m1', 'A', '{"name":"a"}'), ('m2', 'B', '{"name":"b"}'), ('m3', 'C', '{"name":"local"}'),
        ('m4', 'D', '{"name":"d"}'), ('m5', 'G', '{"name":"g"}'), ('m6', 'G', '{"name":"g"}'),
        ('x1', 'F', '{}'), ('x2', 'Z', '{}');
      INSERT INTO group_members SELECT 'd', id FROM contacts WHERE id LIKE 'm%';
      INSERT INTO sync_member_state (group_id, contact_id, remote_id, main_value, synced_fields) VALUES
        ('d', 'm1', '11', 'A', '{"mobile":"A","name":"a"}'),
        ('d', 'm3', '30', 'C', '{"mobile":"C","name":"believed"}'),
        ('d', 'm4', '40', 'D', '{"mobile":"D","name":"d"}'),
        ('d', 'm5', NULL, 'G', '{"mobile":"G"}'),
        ('d', 'm6', '90', 'G', '{"mobile":"G","name":"g"}'),
        ('d', 'x1', '70', 'F', '{"mobile":"F"}'),
        ('d', 'x2', '80', 'Z', '{"mobile":"Z"}');
      INSERT INTO sync_dirty (group_id, contact_id, seq) VALUES ('d', 'x2', nextval('sync_dirty_seq'));
      DELETE FROM sync_outbox;`);
    runId = await createRun(pool, { startedBy: 't', dryRun: false, groupIds: ['d'] });
    client = await pool.connect();
    await client.query('BEGIN');
    // As stage-remote.ts stages them: values over the compared fields, empty ones left out.
    await client.query(
      'CREATE TEMP TABLE resync_remote (idcontact text NOT NULL, main text, fields jsonb NOT NULL) ON COMMIT DROP',
    );
    for (const [id, main, name] of REMOTE) {
      await client.query(
        `INSERT INTO resync_remote VALUES ($1, $2::text,
           jsonb_strip_nulls(jsonb_build_object('mobile', $2::text, 'name', $3::text)))`,
        [id, main, name],
      );
    }
    for (const sql of diffStatements(FIELDS)) {
      const { text, values } = bindDiff(sql, { groupId: 'd', main: 'mobile', fields: FIELDS });
      await client.query(text, values);
    }
    for (const sql of NAME_DELETE_ROWS_SQL) await client.query(sql);
    await client.query(INSERT_ITEMS_SQL, [runId, 'd']);
    // The whole diff as one slice (apply-corrections.ts cuts it into several).
    const whole = await client.query<{ first: string; last: string }>(
      'SELECT min(contact_id) AS first, max(contact_id) AS last FROM resync_diff',
    );
    await correctSlice(client, 'd', runId, whole.rows[0] as { first: string; last: string });
    await recordResyncedColumns(client, 'd', FIELDS);
  });
  afterAll(async () => {
    await client?.query('ROLLBACK').catch(() => undefined);
    client?.release();
    await pool?.end();
    await db?.drop();
  });

  it('finds each kind of difference once, keeping the remembered id, else the lowest', async () => {
    const items = await client.query<{
      kind: string;
      contact_id: string;
      remote_id: string;
      detail: unknown;
    }>(
      `SELECT kind, contact_id, remote_id, detail FROM sync_resync_items WHERE run_id = $1
       ORDER BY kind, contact_id`,
      [runId],
    );
    expect(items.rows).toEqual([
      { kind: 'add', contact_id: 'm4', remote_id: null, detail: null },
      { kind: 'adopt', contact_id: 'm2', remote_id: '20', detail: { previous_remote_id: null } },
      {
        kind: 'delete',
        contact_id: 'remote:50',
        remote_id: '50',
        detail: { fields: { mobile: 'E', name: 'e' } },
      },
      {
        kind: 'delete',
        contact_id: 'remote:60',
        remote_id: '60',
        detail: { fields: { name: 'no main' } },
      },
      {
        kind: 'delete',
        contact_id: 'remote:99',
        remote_id: '99',
        detail: { fields: { mobile: 'H', name: 'h' } },
      },
      {
        kind: 'delete',
        contact_id: 'x1',
        remote_id: '70',
        detail: { fields: { mobile: 'F', name: 'f' } },
      },
      {
        kind: 'duplicate',
        contact_id: 'remote:10',
        remote_id: '10',
        detail: { fields: { mobile: 'A', name: 'a' }, kept: '11' },
      },
      {
        kind: 'duplicate',
        contact_id: 'remote:100',
        remote_id: '100',
        detail: { fields: { mobile: 'H', name: 'h' }, kept: '99' },
      },
      {
        kind: 'duplicate',
        contact_id: 'remote:21',
        remote_id: '21',
        detail: { fields: { mobile: 'B', name: 'b' }, kept: '20' },
      },
      {
        kind: 'modify',
        contact_id: 'm3',
        remote_id: '30',
        detail: { changes: { name: { local: 'local', remote: 'remote' } } },
      },
    ]);
  });

  it('makes the sync state say what the remote group holds', async () => {
    const state = await client.query(
      `SELECT contact_id, remote_id, synced_fields, uncertain FROM sync_member_state
       WHERE group_id = 'd' ORDER BY contact_id`,
    );
    const row = (remote_id: string | null, synced_fields: unknown) => ({
      remote_id,
      synced_fields,
      uncertain: false,
    });
    expect(state.rows).toEqual([
      { contact_id: 'm1', ...row('11', { mobile: 'A', name: 'a' }) },
      { contact_id: 'm2', ...row('20', { mobile: 'B', name: 'b' }) },
      { contact_id: 'm3', ...row('30', { mobile: 'C', name: 'remote' }) },
      { contact_id: 'm4', ...row(null, null) },
      // A second member with an existing main value is not remote: the planner refuses it.
      { contact_id: 'm5', ...row(null, null) },
      { contact_id: 'm6', ...row('90', { mobile: 'G', name: 'g' }) },
      { contact_id: 'remote:10', ...row('10', { mobile: 'A', name: 'a' }) },
      { contact_id: 'remote:100', ...row('100', { mobile: 'H', name: 'h' }) },
      { contact_id: 'remote:21', ...row('21', { mobile: 'B', name: 'b' }) },
      { contact_id: 'remote:50', ...row('50', { mobile: 'E', name: 'e' }) },
      { contact_id: 'remote:60', ...row('60', { name: 'no main' }) },
      { contact_id: 'remote:99', ...row('99', { mobile: 'H', name: 'h' }) },
      { contact_id: 'x1', ...row('70', { mobile: 'F', name: 'f' }) },
    ]);
  });

  it('marks for the worker exactly the members that need a call, as bulk work', async () => {
    const marks = await client.query(
      `SELECT contact_id, bulk FROM sync_dirty WHERE group_id = 'd' ORDER BY contact_id`,
    );
    expect(marks.rows.map((r: { contact_id: string }) => r.contact_id)).toEqual([
      'm3',
      'm4',
      'remote:10',
      'remote:100',
      'remote:21',
      'remote:50',
      'remote:60',
      'remote:99',
      'x1',
    ]);
    expect(marks.rows.every((r: { bulk: boolean }) => r.bulk)).toBe(true);
  });
});
