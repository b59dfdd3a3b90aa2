import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approveDeletes } from '../src/sync/delete-guard.ts';
import { createHarness, emulatorState, waitFor, type Harness } from './support/harness.ts';
import { drained, settled } from './support/sync-helpers.ts';

describe('the mass-deletion guard', () => {
  let h: Harness;
  const remoteIds = new Map<string, string>();
  const remoteCount = async (groupId: string): Promise<number> => {
    const g = (await emulatorState(h.emulator.url)).find(
      (r) => String(r.idgroup) === remoteIds.get(groupId),
    );
    return g?.contacts.length ?? -1;
  };
  const openHolds = async (groupId: string) =>
    (
      await h.db.query<{ kind: string; count: number; reason: string }>(
        'SELECT kind, count, reason FROM sync_holds WHERE group_id = $1 AND approved_at IS NULL',
        [groupId],
      )
    ).rows;

  beforeAll(async () => {
    h = await createHarness({ env: { SWEEP_AFTER_MS: '1000' } });
    await h.startDaemon();
    await h.db.query(`BEGIN;
      INSERT INTO groups (id, name, type, fields) VALUES ('big', 'Big', 'mobile', '{mobile}'), ('other', 'Other', 'mobile', '{mobile}');
      INSERT INTO contacts (id, mobile) SELECT 'c' || i, '3465' || lpad(i::text, 7, '0') FROM generate_series(1, 400) i;
      INSERT INTO group_members SELECT 'big', 'c' || i FROM generate_series(1, 200) i;
      INSERT INTO group_members SELECT 'other', 'c' || i FROM generate_series(201, 400) i;
      COMMIT;`);
    await waitFor(() => drained(h), 30_000, 'initial sync');
    const rows = await h.db.query<{ id: string; afilnet_id: string }>(
      'SELECT id, afilnet_id FROM groups',
    );
    for (const r of rows.rows) remoteIds.set(r.id, r.afilnet_id);
  });
  afterAll(async () => h?.close());

  it('lets 5 % of a group be deleted without a hold', async () => {
    await h.db.query(
      `DELETE FROM group_members WHERE group_id = 'big' AND contact_id IN (SELECT 'c' || i FROM generate_series(1, 10) i)`,
    );
    await waitFor(() => drained(h), 30_000, 'small delete');
    expect(await remoteCount('big')).toBe(190);
    expect(await openHolds('big')).toEqual([]);
  });

  it('holds the deletion of 50 % of a group while adds and modifies keep flowing, until approved', async () => {
    await h.db.query(
      `DELETE FROM group_members WHERE group_id = 'big' AND contact_id IN (SELECT 'c' || i FROM generate_series(101, 200) i)`,
    );
    await waitFor(async () => (await openHolds('big')).length === 1, 30_000, 'a hold');
    expect((await openHolds('big'))[0]).toMatchObject({ kind: 'deletes', count: 100 });
    // Live work on the same group still goes through.
    await h.db.query(
      `INSERT INTO contacts (id, mobile) VALUES ('new', '34699000001'); INSERT INTO group_members VALUES ('big', 'new')`,
    );
    await waitFor(() => settled(h), 30_000, 'non-held work');
    await new Promise((r) => setTimeout(r, 2_500));
    expect(await remoteCount('big')).toBe(191);
    expect(await approveDeletes(h.db, 'big', 'test')).toBe(1);
    await waitFor(() => drained(h), 30_000, 'approved deletes');
    expect(await remoteCount('big')).toBe(91);
  });

  it('ends a wipe of the public tables in holds, not in an empty account', async () => {
    await h.db.query('DELETE FROM contacts');
    await waitFor(async () => (await openHolds('other')).length === 1, 30_000, 'hold on other');
    await new Promise((r) => setTimeout(r, 2_000));
    expect(await remoteCount('other')).toBe(200);
    await expect(h.db.query('TRUNCATE contacts CASCADE')).rejects.toThrow(
      /TRUNCATE of "contacts" is refused/,
    );
  });

  it('holds the deletion of a group with more than DELETE_GUARD_MIN contacts', async () => {
    await h.db.query(`DELETE FROM groups WHERE id = 'other'`);
    await waitFor(
      async () => (await openHolds('other')).some((x) => x.kind === 'deletegroup'),
      30_000,
      'deletegroup hold',
    );
    expect(await remoteCount('other')).toBe(200);
    await approveDeletes(h.db, 'other', 'test');
    await waitFor(async () => (await remoteCount('other')) === -1, 30_000, 'group deleted');
  });
});
