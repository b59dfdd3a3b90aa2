import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  advanceCursor,
  loadDirtyMembers,
  markMembersDirty,
  START_CURSOR,
} from '../src/state/dirty-marks.ts';
import { clearGroupDirty, forgetDeletedGroup, loadGroup } from '../src/state/group-state.ts';
import { approveGroupDeletes } from '../src/operator/approve-group-deletes.ts';
import { retryFailed } from '../src/operator/retry-failed.ts';
import { createTestDatabase, testPool } from './support/stores.ts';

/** The queue side of operator commands is not under test here: a queue that only records. */
const queue = {
  enqueued: [] as string[],
  enqueue: (ids: string[]) => {
    queue.enqueued.push(...ids);
    return Promise.resolve();
  },
};

describe('the state module', () => {
  let db: pg.Pool;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    const database = await createTestDatabase();
    drop = database.drop;
    db = testPool(database.url, 4);
  });
  afterAll(async () => {
    await db?.end();
    await drop?.();
  });
  beforeEach(async () => {
    await db.query(`DELETE FROM groups; DELETE FROM contacts; DELETE FROM sync_dirty;
      DELETE FROM sync_member_state; DELETE FROM sync_group_state; DELETE FROM sync_holds`);
    await db.query(
      `INSERT INTO groups (id, name, type, fields, afilnet_id) VALUES ('g', 'G', 'mobile', '{mobile}', '7')`,
    );
    await db.query(
      `INSERT INTO contacts (id, mobile) SELECT 'c' || i, '600' || i FROM generate_series(1, 6) i`,
    );
    await db.query(`INSERT INTO group_members SELECT 'g', 'c' || i FROM generate_series(1, 6) i`);
    await db.query(`DELETE FROM sync_outbox`);
  });

  describe('operator commands against a run in progress', () => {
    it('keeps a retried group dirty when a run that read it before clears its flag', async () => {
      await db.query(
        `INSERT INTO sync_group_state (group_id, remote_id, status, dirty, dirty_seq) VALUES ('g', '7', 'failed', false, 5)`,
      );
      const seenByRun = (await loadGroup(db, 'g')).state?.dirtySeq as string;
      await retryFailed({ pool: db, queue: queue as never }, { groupIds: ['g'] });
      await clearGroupDirty(db, 'g', seenByRun);
      expect((await loadGroup(db, 'g')).state?.dirty).toBe(true);
    });

    it('keeps an approved deletegroup dirty when a run that read it before clears its flag', async () => {
      await db.query(
        `INSERT INTO sync_group_state (group_id, remote_id, status, dirty, dirty_seq) VALUES ('g', '7', 'held', false, 5)`,
      );
      const seenByRun = (await loadGroup(db, 'g')).state?.dirtySeq as string;
      await approveGroupDeletes({ pool: db, queue: queue as never }, 'g', 'test');
      await clearGroupDirty(db, 'g', seenByRun);
      expect((await loadGroup(db, 'g')).state?.dirty).toBe(true);
    });
  });

  describe('after the remote group was deleted', () => {
    beforeEach(async () => {
      await db.query(
        `INSERT INTO sync_group_state (group_id, remote_id, status) VALUES ('g', '7', 'ok')`,
      );
      await db.query(`INSERT INTO sync_member_state (group_id, contact_id, remote_id, synced_fields, status)
                      SELECT 'g', 'c' || i, i::text, '{}', 'synced' FROM generate_series(1, 6) i`);
    });

    it('forgets everything when the row is still gone', async () => {
      await db.query(`DELETE FROM groups WHERE id = 'g'`);
      await db.query(`INSERT INTO sync_dirty (group_id, contact_id, seq) VALUES ('g', 'c1', 1)`);
      expect(await forgetDeletedGroup(db, 'g', '7')).toBe('forgotten');
      const left = await db.query<{
        n: string;
      }>(`SELECT (SELECT count(*) FROM sync_dirty) + (SELECT count(*) FROM sync_member_state)
                                   + (SELECT count(*) FROM sync_group_state) AS n`);
      expect(Number(left.rows[0]?.n)).toBe(0);
    });

    it('keeps the marks of a row inserted again, marks every member and unlinks the deleted id', async () => {
      expect(await forgetDeletedGroup(db, 'g', '7')).toBe('recreated');
      const group = await loadGroup(db, 'g');
      expect(group.afilnetId).toBeNull();
      expect(group.state).toMatchObject({ remoteId: null, dirty: true });
      const marks = await db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM sync_dirty WHERE group_id = 'g'`,
      );
      expect(marks.rows[0]?.n).toBe(6);
      const states = await db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM sync_member_state WHERE group_id = 'g'`,
      );
      expect(states.rows[0]?.n).toBe(0);
    });
  });

  describe('paging the marks', () => {
    it('reads live before bulk and moves past every mark once', async () => {
      await markMembersDirty(db, 'g', ['c1', 'c2', 'c3']);
      await markMembersDirty(db, 'g', ['c4', 'c5'], { live: true });
      const first = await loadDirtyMembers(db, 'g', 3);
      expect(first.map((r) => [r.contactId, r.bulk])).toEqual([
        ['c4', false],
        ['c5', false],
        ['c1', true],
      ]);
      let cursor = advanceCursor(START_CURSOR, first);
      // A change arriving meanwhile is read in the same run, after what is already behind it.
      await markMembersDirty(db, 'g', ['c6'], { live: true });
      const second = await loadDirtyMembers(db, 'g', 3, cursor);
      expect(second.map((r) => r.contactId)).toEqual(['c6', 'c2', 'c3']);
      cursor = advanceCursor(cursor, second);
      expect(await loadDirtyMembers(db, 'g', 3, cursor)).toEqual([]);
    });

    it('keeps a live mark live when bulk work marks the member again', async () => {
      await markMembersDirty(db, 'g', ['c1'], { live: true });
      await markMembersDirty(db, 'g', null);
      const rows = await loadDirtyMembers(db, 'g', 10);
      expect(rows.find((r) => r.contactId === 'c1')?.bulk).toBe(false);
      expect(rows.filter((r) => r.bulk)).toHaveLength(5);
    });
  });
});
