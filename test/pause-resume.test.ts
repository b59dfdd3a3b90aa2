import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  compareWithEmulator,
  createHarness,
  emulatorCalls,
  waitFor,
  type Harness,
} from './support/harness.ts';
import { callsDuring } from './support/resync-helpers.ts';
import { parseJson, runCli } from './support/run-cli.ts';
import { drained } from './support/sync-helpers.ts';

/**
 * Per-group pause: nothing is sent for a paused group while its changes collect as net marks;
 * resuming sends one call per changed member, not one per change. CLI, admin HTTP, status.
 */
const TOKEN = 'pause-test-token-0123456789';
const auth = { authorization: `Bearer ${TOKEN}` };
const pending = async (h: Harness, group: string) =>
  (
    await h.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM sync_dirty WHERE group_id = $1`,
      [group],
    )
  ).rows[0]?.n;

describe('pausing and resuming a group', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness({ env: { ADMIN_TOKEN: TOKEN } });
    await h.db.query(`
      INSERT INTO groups (id, name, type, fields) VALUES
        ('g1', 'Paused', 'mobile', '{mobile,name}'), ('g2', 'Running', 'mobile', '{mobile,name}');
      INSERT INTO contacts (id, mobile, attributes)
        SELECT 'c' || i, '3463' || lpad(i::text, 7, '0'), jsonb_build_object('name', 'Name ' || i)
        FROM generate_series(1, 20) i;
      INSERT INTO group_members SELECT 'g1', 'c' || i FROM generate_series(1, 10) i;
      INSERT INTO group_members SELECT 'g2', 'c' || i FROM generate_series(11, 15) i;`);
    await h.startDaemon();
    await waitFor(() => drained(h), 30_000, 'the first sync');
  });
  afterAll(async () => h?.close());

  it('sends nothing for a paused group while its changes collect, and status shows it', async () => {
    const paused = await runCli(['pause', 'g1', '--json'], h.env);
    expect(paused.code).toBe(0);
    expect(parseJson<{ paused: boolean; pausedBy: string }>(paused)).toMatchObject({
      paused: true,
      pausedBy: expect.stringMatching(/^cli/) as string,
    });
    const calls = await callsDuring(h, async () => {
      // Ten changes to five members, two new members, one removed; and one change in g2.
      for (let round = 1; round <= 2; round++) {
        await h.db.query(
          `UPDATE contacts SET attributes = jsonb_build_object('name', 'Round ' || $1::text || ' ' || id)
           WHERE id IN ('c1', 'c2', 'c3', 'c4', 'c5')`,
          [round],
        );
      }
      await h.db.query(`INSERT INTO group_members VALUES ('g1', 'c16'), ('g1', 'c17')`);
      await h.db.query(`DELETE FROM group_members WHERE group_id = 'g1' AND contact_id = 'c10'`);
      await h.db.query(`UPDATE contacts SET attributes = '{"name":"Live"}' WHERE id = 'c11'`);
      await waitFor(async () => (await pending(h, 'g2')) === 0, 30_000, 'g2 synced');
      await waitFor(async () => (await pending(h, 'g1')) === 8, 30_000, 'g1 marks');
      // Longer than the batch window and a sweep: a paused group stays untouched.
      await new Promise((r) => setTimeout(r, 3_500));
    });
    expect(calls).toEqual({ modifycontact: 1 });
    expect(await pending(h, 'g1')).toBe(8);
    const status = parseJson<{ groups: { id: string; paused: { by: string } | null }[] }>(
      await runCli(['status', '--json'], h.env),
    );
    expect(status.groups.map((g) => [g.id, g.paused !== null])).toEqual([
      ['g1', true],
      ['g2', false],
    ]);
    const text = await runCli(['status', '--group', 'g1'], h.env);
    expect(text.stdout).toMatch(/g1: paused since .* by cli/);
  });

  it('sends the net change on resume (admin HTTP): one call per changed member', async () => {
    const before = (await emulatorCalls(h.emulator.url)).byMethod;
    const res = await fetch(`${h.daemon?.adminUrl ?? ''}/groups/g1/resume`, {
      method: 'POST',
      headers: auth,
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ groupId: 'g1', resumed: true, enqueued: true });
    await waitFor(() => drained(h), 30_000, 'the resumed group');
    const after = (await emulatorCalls(h.emulator.url)).byMethod;
    const delta = (m: string) => (after[m] ?? 0) - (before[m] ?? 0);
    expect([delta('modifycontact'), delta('addcontactlist'), delta('deletecontact')]).toEqual([
      5, 1, 1,
    ]);
    expect(await compareWithEmulator(h)).toEqual([]);
  });

  it('pauses through admin HTTP too, and answers 404 for an unknown group', async () => {
    const ok = await fetch(`${h.daemon?.adminUrl ?? ''}/groups/g2/pause`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ pausedBy: 'ops@example' }),
    });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ groupId: 'g2', paused: true, pausedBy: 'ops@example' });
    const unknown = await fetch(`${h.daemon?.adminUrl ?? ''}/groups/nope/pause`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(unknown.status).toBe(404);
    const resumed = await runCli(['resume', 'g2'], h.env);
    expect(resumed.stdout).toMatch(/Group g2 resumed/);
    const again = await runCli(['resume', 'g2'], h.env);
    expect(again.stdout).toMatch(/was not paused/);
  });
});
