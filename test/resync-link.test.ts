import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AfilnetClient } from '../src/afilnet/index.ts';
import { createLogger } from '../src/observability/logger.ts';
import { checkResyncProgress, startResync, type ResyncServices } from '../src/resync/index.ts';
import { ApiCaller } from '../src/gateway/api-caller.ts';
import { GroupQueue } from '../src/sync/group-queue.ts';
import { RateBudget } from '../src/gateway/rate-budget.ts';
import {
  compareWithEmulator,
  createHarness,
  emulatorCalls,
  emulatorState,
  waitFor,
  type Harness,
} from './support/harness.ts';
import { drained } from './support/sync-helpers.ts';

const mobile = (i: number) => `3462${String(i).padStart(7, '0')}`;

/** A remote group holding members 1–90 (81–85 with another name) and 3 strangers. */
async function prefilledRemoteGroup(
  client: AfilnetClient,
  h: Harness,
  name: string,
): Promise<string> {
  await client.creategroup({ name, type: 'mobile', fields: ['mobile', 'name'] });
  const group = (await emulatorState(h.emulator.url)).find((g) => g.name === name);
  const idgroup = String(group?.idgroup);
  const contacts = Array.from({ length: 90 }, (_, k) => ({
    mobile: mobile(k + 1),
    name: k + 1 >= 81 && k + 1 <= 85 ? 'Old name' : `Name ${k + 1}`,
  }));
  contacts.push(...[1, 2, 3].map((i) => ({ mobile: `3469900000${i}`, name: 'Stranger' })));
  await client.addcontactlist(idgroup, contacts);
  return idgroup;
}

async function remoteSize(h: Harness, idgroup: string): Promise<number> {
  const group = (await emulatorState(h.emulator.url)).find((g) => String(g.idgroup) === idgroup);
  return group?.contacts.length ?? -1;
}

async function callsDuring(
  h: Harness,
  work: () => Promise<unknown>,
): Promise<Record<string, number>> {
  const before = (await emulatorCalls(h.emulator.url)).byMethod;
  await work();
  const after = (await emulatorCalls(h.emulator.url)).byMethod;
  return Object.fromEntries(
    Object.entries(after)
      .map(([m, n]) => [m, n - (before[m] ?? 0)] as const)
      .filter(([, n]) => n > 0),
  );
}

describe('a group linked to a remote group that already holds most of its members', () => {
  let h: Harness;
  let client: AfilnetClient;
  let redis: Redis;
  let services: ResyncServices;
  let queue: GroupQueue;
  beforeAll(async () => {
    h = await createHarness({ env: { DELETE_GUARD_PERCENT: '100' } });
    client = AfilnetClient.fromConfig(h.config);
    redis = new Redis(h.env.REDIS_URL as string, { maxRetriesPerRequest: null });
    queue = new GroupQueue(redis, h.env.QUEUE_PREFIX as string, 100, 5);
    const logger = createLogger({ level: 'silent' });
    const budget = new RateBudget(redis, h.env.QUEUE_PREFIX as string, 1000);
    services = { pool: h.db, queue, client, caller: new ApiCaller(budget, null, logger), logger };
    await h.db.query(`
      INSERT INTO contacts (id, mobile, attributes)
        SELECT 'c' || i, '3462' || lpad(i::text, 7, '0'), jsonb_build_object('name', 'Name ' || i)
        FROM generate_series(1, 100) i`);
  });
  afterAll(async () => {
    await queue?.close();
    redis?.disconnect();
    await client?.close();
    await h?.close();
  });

  async function resync(groupId: string, beforeWaiting?: () => Promise<unknown>): Promise<void> {
    const run = await startResync(services, { groups: [groupId], dryRun: false, startedBy: 't' });
    await beforeWaiting?.();
    await waitFor(
      async () => (await checkResyncProgress(h.db, run.id)).status === 'done',
      30_000,
      `the resync of ${groupId}`,
    );
    await waitFor(() => drained(h), 30_000, 'the sync to drain');
  }

  it('adds exactly the missing members when linked, and the resync then deletes only strangers', async () => {
    const idgroup = await prefilledRemoteGroup(client, h, 'Linked');
    await h.startDaemon();
    const linkCalls = await callsDuring(h, async () => {
      await h.db.query(
        `INSERT INTO groups (id, name, type, fields, afilnet_id)
                        VALUES ('linked', 'Linked', 'mobile', '{mobile,name}', $1)`,
        [idgroup],
      );
      await h.db.query(
        `INSERT INTO group_members SELECT 'linked', 'c' || i FROM generate_series(1, 100) i`,
      );
      await waitFor(() => drained(h), 30_000, 'the link to be synced');
    });
    expect(await remoteSize(h, idgroup)).toBe(90 + 3 + 10);
    expect(linkCalls).toEqual({
      getgroupcolumns: 1,
      getcontacts: 1,
      addcontactlist: 1,
      modifycontact: 5,
    });

    const dry = await startResync(services, { groups: ['linked'], dryRun: true, startedBy: 't' });
    expect(dry.counts.linked).toEqual({ delete: 3 });
    const resyncCalls = await callsDuring(h, () => resync('linked'));
    expect(resyncCalls).toEqual({ getgroupcolumns: 1, getcontacts: 1, deletecontact: 3 });
    expect(await remoteSize(h, idgroup)).toBe(100);
    expect(await compareWithEmulator(h)).toEqual([]);
  });

  it('agrees with the link when a resync settles members left uncertain by an interrupted link', async () => {
    const idgroup = await prefilledRemoteGroup(client, h, 'Interrupted');
    await h.stopDaemon();
    // What the link's reconcile leaves when the worker dies before its member loop: the remote
    // id learned, every member uncertain and marked.
    await h.db.query(
      `
      INSERT INTO groups (id, name, type, fields, afilnet_id)
        VALUES ('interrupted', 'Interrupted', 'mobile', '{mobile,name}', $1);
      INSERT INTO group_members SELECT 'interrupted', 'c' || i FROM generate_series(1, 100) i;
      INSERT INTO sync_group_state (group_id, remote_id, type, name, synced_fields, dirty)
        VALUES ('interrupted', $1, 'mobile', 'Interrupted', '{mobile,name}', false);
      INSERT INTO sync_member_state (group_id, contact_id, uncertain)
        SELECT 'interrupted', 'c' || i, true FROM generate_series(1, 100) i;
      INSERT INTO sync_dirty (group_id, contact_id, seq, bulk)
        SELECT 'interrupted', 'c' || i, nextval('sync_dirty_seq'), true FROM generate_series(1, 100) i;`.replaceAll(
        '$1',
        `'${idgroup}'`,
      ),
    );
    const dry = await startResync(services, {
      groups: ['interrupted'],
      dryRun: true,
      startedBy: 't',
    });
    // Uncertain members found remotely are adopted; the 5 renamed ones are modified too.
    expect(dry.counts.interrupted).toEqual({ add: 10, adopt: 90, modify: 5, delete: 3 });

    // Requested before the daemon is back, so its first run of the group applies the resync.
    const calls = await callsDuring(h, () => resync('interrupted', () => h.startDaemon()));
    expect(calls).toEqual({
      getgroupcolumns: 1,
      getcontacts: 1,
      addcontactlist: 1,
      modifycontact: 5,
      deletecontact: 3,
    });
    expect(await remoteSize(h, idgroup)).toBe(100);
    expect(await compareWithEmulator(h)).toEqual([]);
    // Both paths leave the same remote ids in the state: the ones Afilnet holds.
    const mismatched = await h.db.query(
      `SELECT s.contact_id FROM sync_member_state s
       WHERE s.group_id IN ('linked', 'interrupted') AND (s.remote_id IS NULL OR s.uncertain)`,
    );
    expect(mismatched.rows).toEqual([]);
  });
});
