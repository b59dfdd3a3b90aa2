import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AfilnetClient } from '../src/afilnet/index.ts';
import { approveGroupDeletes } from '../src/operator/approve-group-deletes.ts';
import { createHarness, emulatorState, waitFor, type Harness } from './support/harness.ts';
import { callsDuring } from './support/resync-helpers.ts';
import { drained } from './support/sync-helpers.ts';

const mobile = (i: number) => `3464${String(i).padStart(7, '0')}`;

describe('deleting the row of a linked remote group that holds more than the database knows (F3)', () => {
  let h: Harness;
  let client: AfilnetClient;
  const remoteIds = new Map<string, string>();
  const remoteSize = async (groupId: string): Promise<number> => {
    const id = remoteIds.get(groupId);
    const g = (await emulatorState(h.emulator.url)).find((r) => String(r.idgroup) === id);
    return g?.contacts.length ?? -1;
  };
  const openHolds = async (groupId: string) =>
    (
      await h.db.query<{ kind: string; count: number }>(
        'SELECT kind, count FROM sync_holds WHERE group_id = $1 AND approved_at IS NULL',
        [groupId],
      )
    ).rows;

  /** A remote group of `size` contacts, linked by a row whose members are the first `members`. */
  async function linkedGroup(groupId: string, size: number, members: number): Promise<void> {
    const { idgroup } = await client.creategroup({
      name: groupId,
      type: 'mobile',
      fields: ['mobile'],
    });
    remoteIds.set(groupId, String(idgroup));
    const offset = remoteIds.size * 10_000;
    await client.addcontactlist(
      String(idgroup),
      Array.from({ length: size }, (_, k) => ({ mobile: mobile(offset + k) })),
    );
    await h.db.query(
      `INSERT INTO contacts (id, mobile) SELECT $1 || '-' || k, '3464' || lpad(($2 + k)::text, 7, '0')
       FROM generate_series(0, $3 - 1) k`,
      [groupId, offset, members],
    );
    await h.db.query(
      `INSERT INTO groups (id, name, type, fields, afilnet_id) VALUES ($1, $1, 'mobile', '{mobile}', $2)`,
      [groupId, String(idgroup)],
    );
    await h.db.query(
      `INSERT INTO group_members SELECT $1, $1 || '-' || k FROM generate_series(0, $2 - 1) k`,
      [groupId, members],
    );
  }

  beforeAll(async () => {
    h = await createHarness({ env: { SWEEP_AFTER_MS: '1000' } });
    client = AfilnetClient.fromConfig(h.config);
    await linkedGroup('big', 600, 2);
    await linkedGroup('small', 5, 2);
    await h.startDaemon();
    await waitFor(() => drained(h), 30_000, 'the links');
  });
  afterAll(async () => {
    await client?.close();
    await h?.close();
  });

  it('holds deletegroup of a 600-contact group whose row had 2 members', async () => {
    const calls = await callsDuring(h, async () => {
      await h.db.query(`DELETE FROM groups WHERE id = 'big'`);
      await waitFor(async () => (await openHolds('big')).length === 1, 30_000, 'a hold');
      await new Promise((r) => setTimeout(r, 2_500));
    });
    // One count read; the sweep re-checking the hold reads nothing more.
    expect(calls).toEqual({ getcontacts: 1 });
    expect(await openHolds('big')).toEqual([{ kind: 'deletegroup', count: 600 }]);
    expect(await remoteSize('big')).toBe(600);
    const state = await h.db.query<{ status: string; last_error: string }>(
      `SELECT status, last_error FROM sync_group_state WHERE group_id = 'big'`,
    );
    expect(state.rows[0]?.status).toBe('held');
    expect(state.rows[0]?.last_error).toMatch(/600 contacts/);
  });

  it('deletes it once approved, without reading it again', async () => {
    const daemon = h.daemon;
    if (!daemon) throw new Error('daemon');
    const calls = await callsDuring(h, async () => {
      await approveGroupDeletes({ pool: h.db, queue: daemon.queue }, 'big', 't');
      await waitFor(async () => (await remoteSize('big')) === -1, 30_000, 'deletegroup');
      await waitFor(() => drained(h), 30_000, 'forgotten');
    });
    expect(calls).toEqual({ deletegroup: 1 });
  });

  it('deletes a small remote group after one count read', async () => {
    const calls = await callsDuring(h, async () => {
      await h.db.query(`DELETE FROM groups WHERE id = 'small'`);
      await waitFor(async () => (await remoteSize('small')) === -1, 30_000, 'deletegroup');
      await waitFor(() => drained(h), 30_000, 'forgotten');
    });
    expect(calls).toEqual({ getcontacts: 1, deletegroup: 1 });
    expect(await openHolds('small')).toEqual([]);
  });
});
