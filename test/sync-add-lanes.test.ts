import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDirtyMembers } from '../src/state/dirty-marks.ts';
import { ChunkLedger } from '../src/sync/chunk-ledger.ts';
import type { MemberSender } from '../src/sync/executor-effects.ts';
import { MemberCalls } from '../src/sync/member-calls.ts';
import { RemoteSnapshot } from '../src/sync/remote-snapshot.ts';
import { syncGroupMembers, type SyncTarget } from '../src/sync/sync-group-members.ts';
import {
  createHarness,
  createRemoteGroup,
  emulatorCalls,
  emulatorState,
  setFaults,
  type Harness,
} from './support/harness.ts';
import { memberSyncDeps } from './support/member-rig.ts';

const MEMBERS = 2_000;

/**
 * A chunk's add batches hold distinct members and main values, so they are sent `concurrency` at
 * a time: against the real API (hundreds of ms a call) four batches in a row cost four round
 * trips where one would do. Seen at the sender: how many adds were in flight at once.
 */
describe("a chunk's add batches", () => {
  let h: Harness;
  let rig: ReturnType<typeof memberSyncDeps>;
  let target: SyncTarget;

  beforeAll(async () => {
    h = await createHarness();
    rig = memberSyncDeps(h);
    const remoteId = await createRemoteGroup(h.emulator.url, 'L');
    await h.db.query(
      `INSERT INTO groups (id, name, type, fields, afilnet_id) VALUES ('l', 'L', 'mobile', '{mobile,name}', $1)`,
      [remoteId],
    );
    await h.db.query(
      `INSERT INTO sync_group_state (group_id, remote_id, type, name, synced_fields, status)
         VALUES ('l', $1, 'mobile', 'L', '{mobile,name}', 'ok')`,
      [remoteId],
    );
    await h.db.query(
      `INSERT INTO contacts (id, mobile, attributes)
       SELECT 'c' || lpad(i::text, 5, '0'), '6' || lpad(i::text, 8, '0'), jsonb_build_object('name', 'N' || i)
       FROM generate_series(1, $1::int) i`,
      [MEMBERS],
    );
    await h.db.query(`INSERT INTO group_members SELECT 'l', id FROM contacts`);
    await h.db.query(`DELETE FROM sync_outbox`);
    await h.db.query(
      `INSERT INTO sync_dirty (group_id, contact_id, seq)
       SELECT 'l', id, nextval('sync_dirty_seq') FROM contacts ORDER BY id`,
    );
    target = {
      groupId: 'l',
      remoteId,
      shape: { type: 'mobile', fields: ['mobile', 'name'] },
      snapshot: new RemoteSnapshot(rig.deps, 'l', remoteId, 'mobile', ['mobile', 'name']),
    };
  });
  afterAll(async () => {
    await rig?.close();
    await h?.close();
  });

  it('are sent concurrently, at most `concurrency` at a time, and all arrive once', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const observed = (sender: MemberSender): MemberSender => ({
      ...sender,
      modify: (id, changed, p) => sender.modify(id, changed, p),
      delete: (id, p) => sender.delete(id, p),
      async add(batch, main, priority) {
        maxInFlight = Math.max(maxInFlight, ++inFlight);
        try {
          return await sender.add(batch, main, priority);
        } finally {
          inFlight--;
        }
      },
    });
    // Each answer takes 300 ms: one batch sent after another's answer never overlaps it.
    await setFaults(h.emulator.url, { latencyMs: 300 });
    const deps = {
      ...rig.deps,
      batchSize: 250,
      concurrency: 3,
      effects: {
        sender: (remoteGroupId: string) =>
          observed(new MemberCalls(rig.deps.client, rig.deps.caller, remoteGroupId)),
        ledger: () => new ChunkLedger(),
        guard: rig.deps.guard,
      },
    };
    const rows = await loadDirtyMembers(h.db, 'l', MEMBERS);
    expect(rows).toHaveLength(MEMBERS);
    const result = await syncGroupMembers(deps, target, rows);
    await setFaults(h.emulator.url, { latencyMs: 0 });

    expect(result).toMatchObject({ transient: false, synced: MEMBERS, failed: 0 });
    expect(result.calls).toEqual({ addcontactlist: MEMBERS / 250 });
    expect(maxInFlight).toBe(3);
    expect((await emulatorCalls(h.emulator.url)).byMethod.addcontactlist).toBe(MEMBERS / 250);
    const remote = (await emulatorState(h.emulator.url))[0]?.contacts ?? [];
    expect(remote).toHaveLength(MEMBERS);
    expect(new Set(remote.map((c) => c.fields.mobile)).size).toBe(MEMBERS);
    await target.snapshot.release();
  });
});
