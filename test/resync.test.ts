import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AfilnetClient } from '../src/afilnet/index.ts';
import { Redis } from 'ioredis';
import { createLogger } from '../src/observability/logger.ts';
import { lockGroup } from '../src/resync/resync-lock.ts';
import {
  checkResyncProgress,
  startResync,
  type ResyncRun,
  type ResyncServices,
} from '../src/resync/index.ts';
import { ApiCaller } from '../src/gateway/api-caller.ts';
import { GroupQueue } from '../src/sync/group-queue.ts';
import { RateBudget } from '../src/gateway/rate-budget.ts';
import {
  compareWithEmulator,
  createHarness,
  emulatorState,
  waitFor,
  type Harness,
} from './support/harness.ts';
import { drained } from './support/sync-helpers.ts';
import { applyResync, callsDuring, servicesOf } from './support/resync-helpers.ts';

async function remoteGroup(h: Harness, idgroup: string) {
  const group = (await emulatorState(h.emulator.url)).find((g) => String(g.idgroup) === idgroup);
  if (!group) throw new Error(`no remote group ${idgroup}`);
  return group;
}

async function idOfMain(h: Harness, idgroup: string, main: string): Promise<string> {
  const contact = (await remoteGroup(h, idgroup)).contacts.find((c) => c.fields.mobile === main);
  if (!contact) throw new Error(`no remote contact ${main}`);
  return String(contact.idcontact);
}

describe('resync of a group that drifted behind the daemon’s back', () => {
  let h: Harness;
  let client: AfilnetClient;
  let remoteId: string;
  beforeAll(async () => {
    // Contacts deleted in Afilnet are re-added here: the behaviour REMOTE_REMOVALS=readd keeps
    // (the default, respect, records them as opt-outs: test/opt-out.test.ts).
    h = await createHarness({ env: { DELETE_GUARD_PERCENT: '100', REMOTE_REMOVALS: 'readd' } });
    client = AfilnetClient.fromConfig(h.config);
    await h.db.query(`
      INSERT INTO groups (id, name, type, fields) VALUES ('g1', 'Customers', 'mobile', '{mobile,name,city}');
      INSERT INTO contacts (id, mobile, attributes)
        SELECT 'c' || i, '3461' || lpad(i::text, 7, '0'),
               jsonb_build_object('name', 'Name ' || i) ||
               CASE WHEN i <= 10 THEN jsonb_build_object('city', 'City ' || i) ELSE '{}' END
        FROM generate_series(1, 200) i;
      INSERT INTO group_members SELECT 'g1', 'c' || i FROM generate_series(1, 200) i;`);
    await h.startDaemon();
    await waitFor(() => drained(h), 30_000, 'the first sync');
    expect(await compareWithEmulator(h)).toEqual([]);
    const res = await h.db.query<{ afilnet_id: string }>(
      `SELECT afilnet_id FROM groups WHERE id = 'g1'`,
    );
    remoteId = res.rows[0]?.afilnet_id ?? '';

    // Drift made in Afilnet directly: 5 contacts deleted, 4 names changed, 3 strangers added,
    // the city column removed.
    const byMobile = new Map(
      (await remoteGroup(h, remoteId)).contacts.map((c) => [c.fields.mobile, String(c.idcontact)]),
    );
    const idOf = (i: number) => byMobile.get(`3461${String(i).padStart(7, '0')}`) as string;
    for (const i of [21, 22, 23, 24, 25]) await client.deletecontact(remoteId, idOf(i));
    for (const i of [31, 32, 33, 34])
      await client.modifycontact(remoteId, idOf(i), { name: 'Changed' });
    await client.addcontactlist(remoteId, [
      { mobile: '34699000001', name: 'Stranger 1' },
      { mobile: '34699000002', name: 'Stranger 2' },
      { mobile: '34699000003', name: 'Stranger 3' },
    ]);
    await client.deletecolumnfromgroup(remoteId, 'city');
  });
  afterAll(async () => {
    await client?.close();
    await h?.close();
  });

  it('reports exactly the drift in a dry run, with read calls only', async () => {
    const services = servicesOf(h, client);
    let run: ResyncRun | undefined;
    const calls = await callsDuring(h, async () => {
      run = await startResync(services, { groups: ['g1'], dryRun: true, startedBy: 'test@host' });
    });
    expect({ status: run?.status, error: run?.error }).toEqual({ status: 'planned', error: null });
    expect(run?.counts.g1).toEqual({ add: 5, modify: 4, delete: 3, add_column: 1 });
    expect(calls).toEqual({ getgroupcolumns: 1, getcontacts: 1 });
    const items = await h.db.query<{ kind: string; main_value: string; detail: unknown }>(
      `SELECT kind, main_value, detail FROM sync_resync_items WHERE run_id = $1 AND kind = 'modify'
       ORDER BY main_value LIMIT 1`,
      [run?.id],
    );
    expect(items.rows[0]).toEqual({
      kind: 'modify',
      main_value: '34610000031',
      detail: { changes: { name: { local: 'Name 31', remote: 'Changed' } } },
    });
    // A dry run changes nothing: no request flag, no dirty mark.
    const flags = await h.db.query(
      `SELECT 1 FROM sync_group_state WHERE resync_run_id IS NOT NULL`,
    );
    expect(flags.rowCount).toBe(0);
    expect(await compareWithEmulator(h)).not.toEqual([]);
  });

  it('restores equality when applied, with one call per repair', async () => {
    const services = servicesOf(h, client);
    let run: ResyncRun | undefined;
    const calls = await callsDuring(h, async () => {
      run = await applyResync(h, services, ['g1']);
    });
    expect({ status: run?.status, error: run?.error }).toEqual({ status: 'done', error: null });
    expect(await compareWithEmulator(h)).toEqual([]);
    expect((await remoteGroup(h, remoteId)).fields).toContain('city');
    // The 10 members holding a city get it back once the column is re-added.
    expect(run?.counts.g1).toEqual({ add: 5, modify: 14, delete: 3, add_column: 1 });
    expect(run?.applied.g1).toEqual({
      applied: { add: 5, modify: 14, delete: 3, add_column: 1 },
      failed: {},
    });
    expect(calls).toEqual({
      getgroupcolumns: 1,
      addcolumntogroup: 1,
      getcontacts: 1,
      addcontactlist: 1,
      modifycontact: 14,
      deletecontact: 3,
    });
    const kept = await h.db.query(
      `SELECT started_by, dry_run, finished_at IS NOT NULL AS finished FROM sync_resync_runs WHERE id = $1`,
      [run?.id],
    );
    expect(kept.rows[0]).toEqual({ started_by: 'test@host', dry_run: false, finished: true });
  });

  it('makes only read calls and applies nothing when run again', async () => {
    const services = servicesOf(h, client);
    let run: ResyncRun | undefined;
    const calls = await callsDuring(h, async () => {
      run = await applyResync(h, services, ['g1']);
    });
    expect(calls).toEqual({ getgroupcolumns: 1, getcontacts: 1 });
    expect(run?.counts.g1).toEqual({});
    expect(run?.progress.g1).toMatchObject({ phase: 'done', total: 0 });
  });

  it('refuses a second request while one is pending, and applies it when the daemon is back', async () => {
    await h.stopDaemon();
    const redis = new Redis(h.env.REDIS_URL as string, { maxRetriesPerRequest: null });
    const queue = new GroupQueue(redis, h.env.QUEUE_PREFIX as string, 100, 5);
    const logger = createLogger({ level: 'silent' });
    const services: ResyncServices = {
      pool: h.db,
      queue,
      client,
      caller: new ApiCaller(
        new RateBudget(redis, h.env.QUEUE_PREFIX as string, 1000),
        null,
        logger,
      ),
      logger,
    };
    try {
      await client.modifycontact(remoteId, await idOfMain(h, remoteId, '34610000050'), {
        name: 'Changed while nobody looked',
      });
      const pending = await startResync(services, {
        groups: ['g1'],
        dryRun: false,
        startedBy: 't',
      });
      expect(pending.status).toBe('planning');
      const again = { groups: ['g1'], dryRun: true, startedBy: 't' };
      await expect(startResync(services, again)).rejects.toThrow(
        new RegExp(`g1: resync run ${pending.id} is still pending`),
      );
      await expect(startResync(services, { ...again, dryRun: false })).rejects.toThrow(
        /still pending/,
      );

      await h.startDaemon();
      let run = pending;
      await waitFor(
        async () => {
          run = await checkResyncProgress(h.db, pending.id);
          return run.status === 'done';
        },
        30_000,
        'the pending resync to be applied',
      );
      expect(run.counts.g1).toEqual({ modify: 1 });
      await waitFor(() => drained(h), 30_000, 'the sync to drain');
      expect(await compareWithEmulator(h)).toEqual([]);
    } finally {
      await queue.close();
      redis.disconnect();
    }
  });

  it('refuses a group another session is planning, and groups it does not know', async () => {
    const services = servicesOf(h, client);
    const lock = await lockGroup(h.db, 'g1');
    try {
      await expect(
        startResync(services, { groups: ['g1'], dryRun: true, startedBy: 't' }),
      ).rejects.toThrow(/g1: another resync is reading or diffing it right now/);
    } finally {
      await lock.release();
    }
    await expect(
      startResync(services, { groups: ['nope'], dryRun: true, startedBy: 't' }),
    ).rejects.toThrow(/nope: no such group/);
  });
});
