import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDirtyMembers } from '../src/state/dirty-marks.ts';
import { RemoteSnapshot } from '../src/sync/remote-snapshot.ts';
import { syncGroupMembers, type SyncTarget } from '../src/sync/sync-group-members.ts';
import {
  createHarness,
  createRemoteGroup,
  emulatorState,
  type Harness,
} from './support/harness.ts';
import { memberSyncDeps } from './support/member-rig.ts';

/**
 * F1: in strict-docs mode an add answers no id. A run whose first chunk read the remote group and
 * then added X must not trust that read for X in a later chunk: X removed meanwhile is deleted,
 * never forgotten with its remote contact left behind.
 */
describe('a remote read shared by the chunks of one run (strict-docs)', () => {
  let h: Harness;
  let rig: ReturnType<typeof memberSyncDeps>;
  let target: SyncTarget;

  beforeAll(async () => {
    h = await createHarness({ strictDocs: true });
    rig = memberSyncDeps(h);
    const remoteId = await createRemoteGroup(h.emulator.url, 'S');
    // M is synced without a remote id (strict-docs adds answer none): its modify needs a read.
    await h.db.query(
      `INSERT INTO groups (id, name, type, fields, afilnet_id) VALUES ('s', 'S', 'mobile', '{mobile,name}', $1)`,
      [remoteId],
    );
    await h.db.query(
      `INSERT INTO contacts (id, mobile, attributes) VALUES ('m', '600000001', '{"name":"M"}'),
                                                             ('x', '600000002', '{"name":"X"}')`,
    );
    await h.db.query(
      `INSERT INTO sync_group_state (group_id, remote_id, type, name, synced_fields, status)
         VALUES ('s', $1, 'mobile', 'S', '{mobile,name}', 'ok')`,
      [remoteId],
    );
    await fetch(`${h.emulator.url}/__emulator/contacts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        account: 'demo',
        idgroup: remoteId,
        fields: { mobile: '600000001', name: 'M' },
      }),
    });
    await h.db.query(
      `INSERT INTO sync_member_state (group_id, contact_id, synced_fields, main_value, status)
       VALUES ('s', 'm', '{"mobile":"600000001","name":"M"}', '600000001', 'synced')`,
    );
    target = {
      groupId: 's',
      remoteId,
      shape: { type: 'mobile', fields: ['mobile', 'name'] },
      snapshot: new RemoteSnapshot(rig.deps, 's', remoteId, 'mobile', ['mobile', 'name']),
    };
  });
  afterAll(async () => {
    await rig?.close();
    await h?.close();
  });

  it('reads again for a member added after the read, and deletes it once removed', async () => {
    // Chunk 1: M's modify reads the remote group; X joins and is added (no id comes back).
    await h.db.query(`UPDATE contacts SET attributes = '{"name":"M2"}' WHERE id = 'm'`);
    await h.db.query(`INSERT INTO group_members VALUES ('s', 'm'), ('s', 'x')`);
    await h.db.query(`DELETE FROM sync_outbox`);
    await h.db.query(
      `INSERT INTO sync_dirty (group_id, contact_id, seq) VALUES ('s', 'm', nextval('sync_dirty_seq')),
                                                                ('s', 'x', nextval('sync_dirty_seq'))`,
    );
    const first = await syncGroupMembers(rig.deps, target, await loadDirtyMembers(h.db, 's', 100));
    expect(first).toMatchObject({ transient: false, pauseAccount: null, failGroup: null });
    let remote = (await emulatorState(h.emulator.url))[0]?.contacts.map((c) => c.fields.mobile);
    expect(remote).toEqual(['600000001', '600000002']);

    // X leaves while the run goes on; chunk 2 must find it (a new read) and delete it.
    await h.db.query(`DELETE FROM group_members WHERE contact_id = 'x'`);
    await h.db.query(
      `INSERT INTO sync_dirty (group_id, contact_id, seq) VALUES ('s', 'x', nextval('sync_dirty_seq'))
       ON CONFLICT (group_id, contact_id) DO UPDATE SET seq = excluded.seq`,
    );
    await syncGroupMembers(rig.deps, target, await loadDirtyMembers(h.db, 's', 100));
    remote = (await emulatorState(h.emulator.url))[0]?.contacts.map((c) => c.fields.mobile);
    expect(remote).toEqual(['600000001']);
    const left = await h.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM sync_member_state WHERE contact_id = 'x'`,
    );
    expect(left.rows[0]?.n).toBe(0);
    await target.snapshot.release();
  });
});
