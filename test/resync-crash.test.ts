import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AfilnetClient } from '../src/afilnet/index.ts';
import { createLogger } from '../src/observability/logger.ts';
import {
  checkResyncProgress,
  readRun,
  startResync,
  type ResyncRun,
  type ResyncServices,
} from '../src/resync/index.ts';
import { ApiCaller } from '../src/gateway/api-caller.ts';
import { GroupQueue } from '../src/sync/group-queue.ts';
import { RateBudget } from '../src/gateway/rate-budget.ts';
import { DaemonProcess } from './support/daemon-process.ts';
import {
  compareWithEmulator,
  createHarness,
  emulatorState,
  setFaults,
  waitFor,
  type Harness,
} from './support/harness.ts';
import { drained } from './support/sync-helpers.ts';

describe('a resync whose daemon is killed (SIGKILL) while reading and while applying', () => {
  let h: Harness;
  let client: AfilnetClient;
  let redis: Redis;
  let queue: GroupQueue;
  let services: ResyncServices;
  const daemons: DaemonProcess[] = [];
  const startDaemon = () => {
    const daemon = new DaemonProcess(h.env);
    daemons.push(daemon);
    daemon.start();
    return daemon;
  };
  beforeAll(async () => {
    // Contacts deleted in Afilnet are re-added here: REMOTE_REMOVALS=readd (the default,
    // respect, records them as opt-outs: test/opt-out.test.ts).
    h = await createHarness({
      env: {
        AFILNET_RATE_LIMIT: '25',
        DELETE_GUARD_PERCENT: '100',
        SWEEP_AFTER_MS: '1000',
        REMOTE_REMOVALS: 'readd',
      },
    });
    client = AfilnetClient.fromConfig(h.config);
    redis = new Redis(h.env.REDIS_URL as string, { maxRetriesPerRequest: null });
    queue = new GroupQueue(redis, h.env.QUEUE_PREFIX as string, 100, 12);
    const logger = createLogger({ level: 'silent' });
    const budget = new RateBudget(redis, h.env.QUEUE_PREFIX as string, 25);
    services = { pool: h.db, queue, client, caller: new ApiCaller(budget, null, logger), logger };
    await h.db.query(`
      INSERT INTO groups (id, name, type, fields) VALUES ('k', 'Kill', 'mobile', '{mobile,name}');
      INSERT INTO contacts (id, mobile, attributes)
        SELECT 'c' || i, '3463' || lpad(i::text, 7, '0'), jsonb_build_object('name', 'Name ' || i)
        FROM generate_series(1, 300) i;
      INSERT INTO group_members SELECT 'k', 'c' || i FROM generate_series(1, 300) i;`);
  });
  afterAll(async () => {
    for (const d of daemons) await d.kill();
    await queue?.close();
    redis?.disconnect();
    await client?.close();
    await h?.close();
  });

  it('converges with nothing duplicated after being killed twice', async () => {
    let daemon = startDaemon();
    await waitFor(() => drained(h), 60_000, 'the first sync');
    const groupRow = await h.db.query<{ afilnet_id: string }>(
      `SELECT afilnet_id FROM groups WHERE id = 'k'`,
    );
    const idgroup = groupRow.rows[0]?.afilnet_id as string;
    const remote = (await emulatorState(h.emulator.url)).find((g) => String(g.idgroup) === idgroup);
    const ids = (remote?.contacts ?? []).map((c) => String(c.idcontact));
    expect(ids).toHaveLength(300);
    // 150 renamed, 40 deleted and 40 strangers added behind the daemon's back: ~230 calls to
    // repair at 25 calls/s, so the apply takes about 10 s.
    for (const id of ids.slice(0, 150))
      await client.modifycontact(idgroup, id, { name: 'Drifted' });
    for (const id of ids.slice(150, 190)) await client.deletecontact(idgroup, id);
    await client.addcontactlist(
      idgroup,
      Array.from({ length: 40 }, (_, i) => ({ mobile: `3469800${String(i).padStart(4, '0')}` })),
    );

    // First kill: while the worker reads the remote group (every answer held back 3 s).
    await setFaults(h.emulator.url, { latencyMs: 3_000 });
    const requested = await startResync(services, { groups: ['k'], dryRun: false, startedBy: 't' });
    await waitFor(
      async () => (await readRun(h.db, requested.id))?.progress.k?.phase === 'reading',
      30_000,
      'the worker to start reading',
    );
    await daemon.kill('SIGKILL');
    await setFaults(h.emulator.url, { latencyMs: 0 });
    const flag = await h.db.query(
      `SELECT resync_run_id::text AS r FROM sync_group_state WHERE group_id = 'k'`,
    );
    expect(flag.rows[0]).toEqual({ r: requested.id });
    // The read's transaction died with the process: no plan was stored, nothing was marked.
    const items = await h.db.query(
      'SELECT count(*)::int AS n FROM sync_resync_items WHERE run_id = $1',
      [requested.id],
    );
    expect(items.rows[0]).toEqual({ n: 0 });

    // Second kill: in the middle of the member loop that applies the plan.
    daemon = startDaemon();
    let seen: ResyncRun = requested;
    await waitFor(
      async () => {
        seen = await checkResyncProgress(h.db, requested.id);
        const p = seen.progress.k;
        return p?.phase === 'applying' && (p.remaining ?? 0) < (p.total ?? 0) * 0.7;
      },
      60_000,
      'the apply to be under way',
    );
    await daemon.kill('SIGKILL');
    const midway = await checkResyncProgress(h.db, requested.id);
    expect(midway.status).toBe('applying');
    expect(midway.progress.k?.remaining).toBeGreaterThan(0);
    expect(midway.counts.k).toEqual({ add: 40, modify: 150, delete: 40 });

    startDaemon();
    await waitFor(
      async () => (await checkResyncProgress(h.db, requested.id)).status === 'done',
      120_000,
      'the resync to finish after the restart',
    );
    await waitFor(() => drained(h), 30_000, 'the sync to drain');
    expect(await compareWithEmulator(h)).toEqual([]);
    const after = (await emulatorState(h.emulator.url)).find((g) => String(g.idgroup) === idgroup);
    expect(after?.contacts).toHaveLength(300);
    const done = await readRun(h.db, requested.id);
    expect(done?.applied.k).toEqual({ applied: { add: 40, modify: 150, delete: 40 }, failed: {} });
  }, 300_000);
});
