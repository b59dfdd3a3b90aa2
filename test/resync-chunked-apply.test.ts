import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AfilnetClient } from '../src/afilnet/index.ts';
import { ApiCaller } from '../src/gateway/api-caller.ts';
import { RateBudget } from '../src/gateway/rate-budget.ts';
import { createLogger } from '../src/observability/logger.ts';
import {
  applyPendingResync,
  checkResyncProgress,
  readRun,
  startResync,
  type ResyncServices,
} from '../src/resync/index.ts';
import type { PlanDeps } from '../src/resync/plan-group.ts';
import {
  compareWithEmulator,
  createHarness,
  emulatorState,
  waitFor,
  type Harness,
} from './support/harness.ts';
import { drained } from './support/sync-helpers.ts';

// Three groups of the same 300 members drift alike behind the daemon's back (150 renamed, 40
// deleted, 40 strangers added: 230 members to correct). With the daemon stopped, the test applies
// each group's resync itself, as the worker's hook would, with different bounds per transaction.
const MEMBERS = 300;
const SHAPE = { type: 'mobile' as const, fields: ['mobile', 'name'] };

describe('a resync apply, in transactions of a bounded number of members', () => {
  let h: Harness;
  let client: AfilnetClient;
  let redis: Redis;
  let services: ResyncServices;
  const runs: Record<string, string> = {};

  const idgroupOf = async (groupId: string) =>
    (await h.db.query<{ a: string }>('SELECT afilnet_id AS a FROM groups WHERE id = $1', [groupId]))
      .rows[0]?.a as string;

  /** Applies the group's pending resync as the worker's hook does, with these bounds. */
  const apply = async (groupId: string, bounds: Partial<PlanDeps>) =>
    applyPendingResync(
      { groupId, remoteId: await idgroupOf(groupId), shape: SHAPE },
      { ...services, ...bounds },
    );

  /** How many transactions wrote the group's dirty marks (each leaves its own xmin). */
  const markTransactions = async (groupId: string) =>
    (
      await h.db.query<{ n: number }>(
        'SELECT count(DISTINCT xmin::text)::int AS n FROM sync_dirty WHERE group_id = $1',
        [groupId],
      )
    ).rows[0]?.n;

  /** Items, member states and marks, by main value: comparable across groups. */
  async function outcome(groupId: string): Promise<unknown> {
    const items = await h.db.query(
      `SELECT kind, main_value, detail FROM sync_resync_items WHERE run_id = $1 AND group_id = $2
       ORDER BY kind, main_value, detail::text`,
      [runs[groupId], groupId],
    );
    const states = await h.db.query(
      `SELECT main_value, synced_fields, remote_id IS NOT NULL AS remote, status, uncertain,
              contact_id LIKE 'remote:%' AS stranger
       FROM sync_member_state WHERE group_id = $1 ORDER BY main_value, contact_id`,
      [groupId],
    );
    const marks = await h.db.query(
      `SELECT s.main_value, d.bulk FROM sync_dirty d
       JOIN sync_member_state s ON s.group_id = d.group_id AND s.contact_id = d.contact_id
       WHERE d.group_id = $1 ORDER BY s.main_value`,
      [groupId],
    );
    const group = await h.db.query(
      `SELECT synced_fields, resync_run_id FROM sync_group_state WHERE group_id = $1`,
      [groupId],
    );
    return { items: items.rows, states: states.rows, marks: marks.rows, group: group.rows };
  }

  beforeAll(async () => {
    h = await createHarness({ env: { DELETE_GUARD_PERCENT: '100', REMOTE_REMOVALS: 'readd' } });
    client = AfilnetClient.fromConfig(h.config);
    redis = new Redis(h.env.REDIS_URL as string, { maxRetriesPerRequest: null });
    const logger = createLogger({ level: 'silent' });
    const budget = new RateBudget(redis, h.env.QUEUE_PREFIX as string, 1000);
    services = {
      pool: h.db,
      // The daemon is stopped while the test applies; it takes the groups up when restarted.
      queue: { enqueue: () => Promise.resolve() },
      client,
      caller: new ApiCaller(budget, null, logger),
      logger,
      remoteRemovals: 'readd',
    };
    await h.db.query(`
      INSERT INTO groups (id, name, type, fields) VALUES
        ('whole', 'Whole', 'mobile', '{mobile,name}'), ('sliced', 'Sliced', 'mobile', '{mobile,name}'),
        ('broken', 'Broken', 'mobile', '{mobile,name}');
      INSERT INTO contacts (id, mobile, attributes)
        SELECT 'c' || i, '3465' || lpad(i::text, 7, '0'), jsonb_build_object('name', 'Name ' || i)
        FROM generate_series(1, ${MEMBERS}) i;
      INSERT INTO group_members SELECT g, 'c' || i
        FROM generate_series(1, ${MEMBERS}) i, unnest('{whole,sliced,broken}'::text[]) g;`);
    await h.startDaemon();
    await waitFor(() => drained(h), 60_000, 'the first sync');
    await h.stopDaemon();
    const state = await emulatorState(h.emulator.url);
    for (const groupId of ['whole', 'sliced', 'broken']) {
      const idgroup = await idgroupOf(groupId);
      const remote = state.find((g) => String(g.idgroup) === idgroup);
      const ids = (remote?.contacts ?? [])
        .map((c) => String(c.idcontact))
        .sort((a, b) => Number(a) - Number(b));
      expect(ids).toHaveLength(MEMBERS);
      for (const id of ids.slice(0, 150)) {
        await client.modifycontact(idgroup, id, { name: 'Drifted' });
      }
      for (const id of ids.slice(150, 190)) await client.deletecontact(idgroup, id);
      await client.addcontactlist(
        idgroup,
        Array.from({ length: 40 }, (_, i) => ({ mobile: `3469700${String(i).padStart(4, '0')}` })),
      );
      const run = await startResync(services, { groups: [groupId], dryRun: false, startedBy: 't' });
      runs[groupId] = run.id;
    }
  }, 180_000);
  afterAll(async () => {
    redis?.disconnect();
    await client?.close();
    await h?.close();
  });

  it('commits the corrections of 230 members in slices of at most 50', async () => {
    await apply('whole', {});
    await apply('sliced', { correctionChunk: 50 });
    expect(await markTransactions('whole')).toBe(1);
    expect(await markTransactions('sliced')).toBeGreaterThanOrEqual(Math.ceil(230 / 50));
    const corrected = await h.db.query<{ n: number }>(
      `SELECT count(DISTINCT xmin::text)::int AS n FROM sync_member_state
       WHERE group_id = 'sliced' AND last_result = $1`,
      [`resync run ${runs.sliced}`],
    );
    expect(corrected.rows[0]?.n).toBeGreaterThanOrEqual(Math.ceil(230 / 50));
    const run = await readRun(h.db, runs.sliced as string);
    expect(run?.status).toBe('applying');
    expect(run?.progress.sliced).toMatchObject({ phase: 'applying', total: 230, remaining: 230 });
  });

  it('leaves the same items, member states and marks as one transaction does', async () => {
    const whole = await outcome('whole');
    expect(whole).toMatchObject({ group: [{ resync_run_id: null }] });
    expect((whole as { marks: unknown[] }).marks).toHaveLength(230);
    expect(await outcome('sliced')).toEqual(whole);
  });

  it('keeps the request after a failure between slices, and converges when run again', async () => {
    const failing = apply('broken', {
      correctionChunk: 50,
      afterCorrectionChunk: (committed) => {
        if (committed === 1) throw new Error('injected between slices');
      },
    });
    await expect(failing).rejects.toThrow('injected between slices');
    const flag = await h.db.query(
      `SELECT resync_run_id::text AS r FROM sync_group_state WHERE group_id = 'broken'`,
    );
    expect(flag.rows[0]).toEqual({ r: runs.broken });
    expect(await markTransactions('broken')).toBe(1);
    const midway = await readRun(h.db, runs.broken as string);
    expect(midway?.status).toBe('planning');
    expect(midway?.progress.broken).toMatchObject({ phase: 'planned', total: 230 });
    expect(midway?.progress.broken?.remaining).toBeGreaterThan(0);

    await apply('broken', { correctionChunk: 50 });
    expect(await outcome('broken')).toEqual(await outcome('whole'));
  });

  it('brings every member to the emulator once the worker takes the marks up', async () => {
    await h.startDaemon();
    await waitFor(
      async () => {
        for (const groupId of ['whole', 'sliced', 'broken']) {
          const run = await checkResyncProgress(h.db, runs[groupId] as string);
          if (run.status !== 'done') return false;
        }
        return true;
      },
      60_000,
      'the three resyncs to finish',
    );
    await waitFor(() => drained(h), 30_000, 'the sync to drain');
    expect(await compareWithEmulator(h)).toEqual([]);
    for (const groupId of ['whole', 'sliced', 'broken']) {
      const run = await readRun(h.db, runs[groupId] as string);
      expect(run?.applied[groupId]).toEqual({
        applied: { add: 40, modify: 150, delete: 40 },
        failed: {},
      });
    }
  }, 120_000);
});
