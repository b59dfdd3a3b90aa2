import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, waitFor, type Harness } from './support/harness.ts';
import { parseJson, runCli } from './support/run-cli.ts';
import { drained } from './support/sync-helpers.ts';

/** Run history per group: GET /groups/:id, status --group, the runs metric, and its bound. */
const TOKEN = 'history-test-token-0123456789';
const auth = { authorization: `Bearer ${TOKEN}` };

interface Run {
  outcome: string;
  calls: Record<string, number>;
  synced: number;
  failed: number;
  error: string | null;
}

describe('run history', () => {
  let h: Harness;
  const runsOf = async (group: string) => {
    const res = await fetch(`${h.daemon?.adminUrl ?? ''}/groups/${group}`, { headers: auth });
    expect(res.status).toBe(200);
    const { runs } = (await res.json()) as { runs: (Run & { startedAt: string })[] };
    // Runs that found nothing to send (a job re-queued behind a finished one) are left out.
    return runs
      .filter((r) => Object.keys(r.calls).length > 0)
      .map(({ outcome, calls, synced, failed, error }) => ({
        outcome,
        calls,
        synced,
        failed,
        error,
      }));
  };
  const runCount = async () =>
    Number(
      (await h.db.query<{ n: string }>(`SELECT count(*) AS n FROM sync_group_runs`)).rows[0]?.n,
    );
  beforeAll(async () => {
    h = await createHarness({ env: { ADMIN_TOKEN: TOKEN } });
    await h.db.query(`
      INSERT INTO groups (id, name, type, fields) VALUES ('g1', 'Customers', 'mobile', '{mobile,name}');
      INSERT INTO contacts (id, mobile, attributes)
        SELECT 'c' || i, '3465' || lpad(i::text, 7, '0'), jsonb_build_object('name', 'Name ' || i)
        FROM generate_series(1, 5) i;
      INSERT INTO contacts (id, attributes) VALUES ('bad', '{"name":"no mobile"}');
      INSERT INTO group_members SELECT 'g1', 'c' || i FROM generate_series(1, 5) i;
      INSERT INTO group_members VALUES ('g1', 'bad');`);
    await h.startDaemon();
    await waitFor(() => drained(h), 30_000, 'the first sync');
  });
  afterAll(async () => h?.close());

  it('records each run with its calls by method, members synced and failed', async () => {
    expect(await runsOf('g1')).toEqual([
      { outcome: 'done', calls: { addcontactlist: 1 }, synced: 5, failed: 1, error: null },
    ]);
    const before = await runCount();
    await h.db.query(`UPDATE contacts SET attributes = '{"name":"New"}' WHERE id IN ('c1', 'c2')`);
    await waitFor(async () => (await runCount()) > before && drained(h), 30_000, 'a second run');
    const [last] = await runsOf('g1');
    expect(last).toEqual({
      outcome: 'done',
      calls: { modifycontact: 2 },
      synced: 2,
      failed: 0,
      error: null,
    });
  });

  it('shows the last runs in status --group and counts runs by outcome in /metrics', async () => {
    const json = parseJson<{ runs: Record<string, Run[]> }>(
      await runCli(['status', '--group', 'g1', '--json'], h.env),
    );
    const withCalls = json.runs.g1?.filter((r) => Object.keys(r.calls).length > 0);
    expect(withCalls?.map((r) => r.calls)).toEqual([{ modifycontact: 2 }, { addcontactlist: 1 }]);
    const text = await runCli(['status', '--group', 'g1'], h.env);
    expect(text.stdout).toMatch(/Last runs of g1:[\s\S]*done +modifycontact 2 +2 +0/);
    const done = Number(
      (
        await h.db.query<{ n: string }>(
          `SELECT count(*) AS n FROM sync_group_runs WHERE outcome = 'done'`,
        )
      ).rows[0]?.n,
    );
    const metrics = await (
      await fetch(`${h.daemon?.adminUrl ?? ''}/metrics`, { headers: auth })
    ).text();
    expect(metrics).toContain(`afilnet_sync_group_runs_total{outcome="done"} ${done}`);
  });

  it('keeps the last 50 runs of a group', async () => {
    await h.db.query(
      `INSERT INTO sync_group_runs (group_id, started_at, outcome)
       SELECT 'g1', now() - interval '1 day', 'done' FROM generate_series(1, 60)`,
    );
    const before = await runCount();
    await h.db.query(`UPDATE contacts SET attributes = '{"name":"Newer"}' WHERE id = 'c3'`);
    await waitFor(
      async () => (await runCount()) !== before && drained(h),
      30_000,
      'a run to be recorded',
    );
    expect(await runCount()).toBe(50);
    expect((await runsOf('g1'))[0]?.calls).toEqual({ modifycontact: 1 });
  });
});
