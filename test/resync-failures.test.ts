import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AfilnetClient } from '../src/afilnet/index.ts';
import { createLogger } from '../src/observability/logger.ts';
import { approveGroupDeletes } from '../src/operator/approve-group-deletes.ts';
import {
  checkResyncProgress,
  startResync,
  type ResyncRun,
  type ResyncServices,
} from '../src/resync/index.ts';
import { ApiCaller } from '../src/gateway/api-caller.ts';
import type { GroupQueue } from '../src/sync/group-queue.ts';
import {
  compareWithEmulator,
  createHarness,
  emulatorState,
  waitFor,
  type Harness,
} from './support/harness.ts';
import { drained } from './support/sync-helpers.ts';

describe('a resync that cannot finish on its own', () => {
  let h: Harness;
  let client: AfilnetClient;
  let services: ResyncServices;
  let queue: GroupQueue;
  beforeAll(async () => {
    // The mass-deletion guard at its defaults: more than 20 % of a group deleted is held.
    h = await createHarness();
    client = AfilnetClient.fromConfig(h.config);
    await h.db.query(`
      INSERT INTO groups (id, name, type, fields) VALUES
        ('held', 'Held', 'mobile', '{mobile}'), ('gone', 'Gone', 'mobile', '{mobile}');
      INSERT INTO contacts (id, mobile) SELECT 'c' || i, '3464' || lpad(i::text, 7, '0')
        FROM generate_series(1, 50) i;
      INSERT INTO group_members SELECT 'held', 'c' || i FROM generate_series(1, 50) i;
      INSERT INTO group_members SELECT 'gone', 'c' || i FROM generate_series(1, 5) i;`);
    const daemon = await h.startDaemon();
    await waitFor(() => drained(h), 30_000, 'the first sync');
    const logger = createLogger({ level: 'silent' });
    queue = daemon.queue;
    services = {
      pool: daemon.pool,
      queue: daemon.queue,
      client,
      caller: new ApiCaller(daemon.budget, null, logger),
      logger,
    };
  });
  afterAll(async () => {
    await client?.close();
    await h?.close();
  });

  async function idgroupOf(groupId: string): Promise<string> {
    const res = await h.db.query<{ afilnet_id: string }>(
      'SELECT afilnet_id FROM groups WHERE id = $1',
      [groupId],
    );
    return res.rows[0]?.afilnet_id as string;
  }

  async function until(runId: string, done: (run: ResyncRun) => boolean): Promise<ResyncRun> {
    let run: ResyncRun | undefined;
    await waitFor(
      async () => done((run = await checkResyncProgress(h.db, runId))),
      30_000,
      `run ${runId} to get on`,
    );
    return run as ResyncRun;
  }

  it('waits as held while the guard holds its deletes, and finishes once they are approved', async () => {
    const strangers = Array.from({ length: 30 }, (_, i) => ({ mobile: `346990000${10 + i}` }));
    await client.addcontactlist(await idgroupOf('held'), strangers);
    const started = await startResync(services, {
      groups: ['held'],
      dryRun: false,
      startedBy: 't',
    });
    const held = await until(started.id, (r) => r.progress.held?.phase === 'held');
    expect(held.status).toBe('applying');
    expect(held.progress.held).toMatchObject({ total: 30, remaining: 30 });

    await approveGroupDeletes({ pool: h.db, queue }, 'held', 'tester');
    const done = await until(started.id, (r) => r.status === 'done');
    expect(done.applied.held).toEqual({ applied: { delete: 30 }, failed: {} });
    await waitFor(() => drained(h), 30_000, 'the sync to drain');
    expect(await compareWithEmulator(h)).toEqual([]);
  });

  it('fails the run, naming why, when the remote group is gone, and lets a new one be asked', async () => {
    const idgroup = await idgroupOf('gone');
    await client.deletegroup(idgroup);
    expect((await emulatorState(h.emulator.url)).some((g) => String(g.idgroup) === idgroup)).toBe(
      false,
    );
    const started = await startResync(services, {
      groups: ['gone'],
      dryRun: false,
      startedBy: 't',
    });
    const failed = await until(started.id, (r) => r.status === 'failed');
    expect(failed.error).toBe('group gone: getgroupcolumns failed: NOT_ACCESS_TO_GROUP');
    expect(failed.progress.gone?.phase).toBe('failed');
    const flag = await h.db.query(
      `SELECT resync_run_id FROM sync_group_state WHERE group_id = 'gone'`,
    );
    expect(flag.rows[0]).toEqual({ resync_run_id: null });
  });
});
