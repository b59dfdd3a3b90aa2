import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approveGroupDeletes } from '../src/operator/approve-group-deletes.ts';
import { createHarness, emulatorState, waitFor, type Harness } from './support/harness.ts';
import { drained, settled } from './support/sync-helpers.ts';

describe('an approval releases what was reviewed, and no more (F6 a, b)', () => {
  let h: Harness;
  const remoteIds = new Map<string, string>();
  const remote = async (groupId: string) =>
    (await emulatorState(h.emulator.url)).find((r) => String(r.idgroup) === remoteIds.get(groupId));
  const remoteCount = async (groupId: string) => (await remote(groupId))?.contacts.length ?? -1;
  const openHolds = async (groupId: string) =>
    (
      await h.db.query<{ kind: string; subject: string | null; count: number }>(
        `SELECT kind, subject, count FROM sync_holds WHERE group_id = $1 AND approved_at IS NULL`,
        [groupId],
      )
    ).rows;
  const approve = async (groupId: string) => {
    const daemon = h.daemon;
    if (!daemon) throw new Error('daemon');
    return approveGroupDeletes({ pool: h.db, queue: daemon.queue }, groupId, 't');
  };
  const removeMembers = (groupId: string, from: number, to: number) =>
    h.db.query(
      `DELETE FROM group_members WHERE group_id = $1
       AND contact_id IN (SELECT $1 || '-' || i FROM generate_series($2::int, $3::int) i)`,
      [groupId, from, to],
    );
  const quiet = () => new Promise((r) => setTimeout(r, 2_500));

  beforeAll(async () => {
    h = await createHarness({ env: { SWEEP_AFTER_MS: '1000' } });
    await h.startDaemon();
    const groups: [string, number, string][] = [
      ['a', 200, '{mobile}'],
      ['b', 150, '{mobile}'],
      ['n', 50, '{mobile,name,city}'],
    ];
    for (const [id, size, fields] of groups) {
      await h.db.query(
        `INSERT INTO groups (id, name, type, fields) VALUES ($1, $1, 'mobile', $2)`,
        [id, fields],
      );
      await h.db.query(
        `INSERT INTO contacts (id, mobile, attributes)
         SELECT $1 || '-' || i, '3466' || $2 || lpad(i::text, 6, '0'),
                jsonb_build_object('name', 'Name ' || i) || CASE WHEN i <= 3 THEN '{"city":"Vigo"}'::jsonb ELSE '{}'::jsonb END
         FROM generate_series(1, $3::int) i`,
        [id, String(remoteIds.size), size],
      );
      await h.db.query(
        `INSERT INTO group_members SELECT $1, $1 || '-' || i FROM generate_series(1, $2::int) i`,
        [id, size],
      );
      remoteIds.set(id, '');
    }
    await waitFor(() => drained(h), 60_000, 'initial sync');
    const rows = await h.db.query<{ id: string; afilnet_id: string }>(
      'SELECT id, afilnet_id FROM groups',
    );
    for (const r of rows.rows) remoteIds.set(r.id, r.afilnet_id);
  });
  afterAll(async () => h?.close());

  it('admits the 100 approved deletes, then holds a later wipe of 30 within the window', async () => {
    await removeMembers('a', 1, 100);
    await waitFor(async () => (await openHolds('a')).length === 1, 30_000, 'a hold');
    expect(await openHolds('a')).toEqual([{ kind: 'deletes', subject: null, count: 100 }]);
    expect((await approve('a')).released).toBe(1);
    await waitFor(() => drained(h), 30_000, 'approved deletes');
    expect(await remoteCount('a')).toBe(100);

    await removeMembers('a', 101, 130);
    await waitFor(async () => (await openHolds('a')).length === 1, 30_000, 'a second hold');
    await waitFor(() => settled(h), 30_000, 'settled');
    await quiet();
    expect(await openHolds('a')).toEqual([{ kind: 'deletes', subject: null, count: 30 }]);
    expect(await remoteCount('a')).toBe(100);
  });

  it('does not let an approval of member deletes pass a deletegroup', async () => {
    await removeMembers('b', 1, 40);
    await waitFor(async () => (await openHolds('b')).length === 1, 30_000, 'a hold');
    await approve('b');
    await waitFor(async () => (await remoteCount('b')) === 110, 30_000, 'approved deletes');
    await waitFor(() => settled(h), 30_000, 'settled');
    await h.db.query(`DELETE FROM groups WHERE id = 'b'`);
    await waitFor(
      async () => (await openHolds('b')).some((x) => x.kind === 'deletegroup'),
      30_000,
      'deletegroup hold',
    );
    await quiet();
    expect(await remoteCount('b')).toBe(110);
    expect(await openHolds('b')).toEqual([{ kind: 'deletegroup', subject: null, count: 110 }]);
  });

  it('holds the removal of a field whose column holds values past the threshold', async () => {
    await h.db.query(`UPDATE groups SET fields = '{mobile,city}' WHERE id = 'n'`);
    await waitFor(async () => (await openHolds('n')).length === 1, 30_000, 'a column hold');
    await waitFor(() => settled(h), 30_000, 'settled');
    await quiet();
    expect(await openHolds('n')).toEqual([{ kind: 'delete_column', subject: 'name', count: 50 }]);
    const kept = await remote('n');
    expect(kept?.fields).toEqual(['mobile', 'name', 'city']);
    expect(kept?.contacts.filter((c) => c.fields.name !== '').length).toBe(50);

    await approve('n');
    await waitFor(async () => !(await remote('n'))?.fields.includes('name'), 30_000, 'approved');
    expect(await openHolds('n')).toEqual([]);
  });

  it('removes a field whose column holds few values without a hold', async () => {
    await h.db.query(`UPDATE groups SET fields = '{mobile}' WHERE id = 'n'`);
    await waitFor(
      async () => !(await remote('n'))?.fields.includes('city'),
      30_000,
      'city removed',
    );
    await waitFor(() => settled(h), 30_000, 'settled');
    expect(await openHolds('n')).toEqual([]);
    expect((await remote('n'))?.fields).toEqual(['mobile']);
  });
});
