import type pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  connectWriter,
  createRelayRig,
  dirtyPairs,
  relayListening,
  waitUntil,
  type RelayRig,
  type RelayRigOptions,
} from './support/capture-rig.ts';
import { createTestDatabase, testRedis } from './support/stores.ts';

// Polling alone would take this long: anything faster was woken by NOTIFY.
const POLL_MS = 10_000;

let database: Awaited<ReturnType<typeof createTestDatabase>>;
let db: pg.Client;
let rig: RelayRig | null = null;

beforeEach(async () => {
  database = await createTestDatabase();
  db = await connectWriter(database.url);
  await db.query(`
    INSERT INTO groups (id, name, type, fields)
      SELECT 'g' || i, 'G' || i, 'mobile', '{mobile}' FROM generate_series(1, 10) i;
    INSERT INTO contacts (id, mobile) SELECT 'c' || i, '6000' || i FROM generate_series(1, 10) i;
    INSERT INTO group_members VALUES ('g1', 'c1'), ('g2', 'c1');
    DELETE FROM sync_outbox;`);
});

afterEach(async () => {
  await rig?.close();
  rig = null;
  await db.end();
  await database.drop();
});

function startRig(extra: Partial<RelayRigOptions> = {}): RelayRig {
  rig = createRelayRig({
    databaseUrl: database.url,
    redis: testRedis(),
    pollMs: POLL_MS,
    batchSize: 100,
    ...extra,
  });
  rig.relay.start();
  return rig;
}

/** Milliseconds from the commit of `sql` until the relay hands `group` to the queue. */
async function deliveryMs(r: RelayRig, sql: string, group: string): Promise<number> {
  const committedAt = Date.now();
  await db.query(sql);
  await waitUntil(() => r.enqueueCount(group) > 0, 5_000, `group ${group} to be enqueued`);
  const call = r.calls.find((c) => c.groups.includes(group));
  return (call?.at ?? Infinity) - committedAt;
}

describe('a change committed while no relay runs', () => {
  it('is delivered as soon as a relay starts, contact changes expanded to their memberships', async () => {
    await db.query(`UPDATE contacts SET mobile = '611' WHERE id = 'c1'`);
    await db.query(`UPDATE groups SET name = 'Renamed' WHERE id = 'g3'`);
    const r = startRig();
    const started = Date.now();
    await waitUntil(() => r.calls.length > 0, 2_000, 'the first enqueue');
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(await dirtyPairs(db)).toEqual(new Set(['g1/c1', 'g2/c1']));
    const dirtyGroups = await db.query('SELECT group_id FROM sync_group_state WHERE dirty');
    expect(dirtyGroups.rows).toEqual([{ group_id: 'g3' }]);
    expect(await r.queuedGroups()).toEqual(new Set(['g1', 'g2', 'g3']));
    const left = await db.query('SELECT 1 FROM sync_outbox');
    expect(left.rowCount).toBe(0);
  });
});

describe('wake-up on NOTIFY (poll interval 10 s)', () => {
  it('claims each committed change well under a second after its commit', async () => {
    const r = startRig();
    await waitUntil(() => relayListening(db), 5_000, 'the relay to LISTEN');
    const latencies: number[] = [];
    for (let i = 3; i <= 8; i++) {
      latencies.push(
        await deliveryMs(r, `INSERT INTO group_members VALUES ('g${i}', 'c${i}')`, `g${i}`),
      );
      await new Promise((res) => setTimeout(res, 50));
    }
    expect(Math.max(...latencies)).toBeLessThan(1_000);
  });

  it('still wakes promptly for a change that commits while the relay is busy with the previous one', async () => {
    let busy: (() => void) | null = null;
    const entered = new Promise<void>((resolve) => (busy = resolve));
    const r = startRig({
      // The first hand-over to the queue is slow; the next change commits in the middle of it.
      beforeEnqueue: async (groups) => {
        if (!groups.includes('g4')) return;
        busy?.();
        await new Promise((res) => setTimeout(res, 300));
      },
    });
    await waitUntil(() => relayListening(db), 5_000, 'the relay to LISTEN');
    await db.query(`INSERT INTO group_members VALUES ('g4', 'c4')`);
    await entered;
    const ms = await deliveryMs(r, `INSERT INTO group_members VALUES ('g5', 'c5')`, 'g5');
    expect(ms).toBeLessThan(1_000);
  });
});
