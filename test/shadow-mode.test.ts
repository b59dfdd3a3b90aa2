import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  compareWithEmulator,
  createHarness,
  emulatorCalls,
  emulatorState,
  waitFor,
  type Harness,
} from './support/harness.ts';
import { parseJson, runCli } from './support/run-cli.ts';
import { drained } from './support/sync-helpers.ts';

/**
 * SYNC_MODE=shadow: a daemon that plans and records every call and sends none, changing no sync
 * state; then a live daemon sends exactly what the shadow plan said.
 */
const TOKEN = 'shadow-test-token-0123456789';
const auth = { authorization: `Bearer ${TOKEN}` };
const WRITES = ['addcontactlist', 'modifycontact', 'deletecontact', 'creategroup'];

interface Plan {
  calls: Record<string, number>;
  contacts: Record<string, number>;
  sample: { method: string; main?: string }[];
}

const stateRows = async (h: Harness): Promise<unknown[]> =>
  (
    await h.db.query<Record<string, unknown>>(
      `SELECT contact_id, remote_id, synced_fields, status, uncertain FROM sync_member_state
       ORDER BY contact_id`,
    )
  ).rows;

describe('shadow mode, then live', () => {
  let h: Harness;
  let plan: Plan;
  beforeAll(async () => {
    h = await createHarness({ env: { ADMIN_TOKEN: TOKEN } });
    await h.db.query(`
      INSERT INTO groups (id, name, type, fields) VALUES ('g1', 'Customers', 'mobile', '{mobile,name}');
      INSERT INTO contacts (id, mobile, attributes)
        SELECT 'c' || i, '3464' || lpad(i::text, 7, '0'), jsonb_build_object('name', 'Name ' || i)
        FROM generate_series(1, 14) i;
      INSERT INTO group_members SELECT 'g1', 'c' || i FROM generate_series(1, 10) i;`);
    await h.startDaemon();
    await waitFor(() => drained(h), 30_000, 'the first sync');
    await h.stopDaemon();
    // While no daemon runs: 4 members join, 3 members change twice each.
    await h.db.query(
      `INSERT INTO group_members SELECT 'g1', 'c' || i FROM generate_series(11, 14) i`,
    );
    for (const round of [1, 2]) {
      await h.db.query(
        `UPDATE contacts SET attributes = jsonb_build_object('name', 'Round ' || $1::text)
         WHERE id IN ('c1', 'c2', 'c3')`,
        [round],
      );
    }
  });
  afterAll(async () => h?.close());

  it('records the plan, sends no write and changes no sync state', async () => {
    const before = (await emulatorCalls(h.emulator.url)).byMethod;
    const states = await stateRows(h);
    await h.startDaemon({ SYNC_MODE: 'shadow' });
    await waitFor(
      async () => (await h.db.query(`SELECT 1 FROM sync_shadow_plans`)).rowCount === 1,
      30_000,
      'the shadow plan',
    );
    const res = await fetch(`${h.daemon?.adminUrl ?? ''}/groups/g1`, { headers: auth });
    expect(res.status).toBe(200);
    plan = ((await res.json()) as { shadow: Plan }).shadow;
    expect(plan.calls).toEqual({ addcontactlist: 1, modifycontact: 3 });
    expect(plan.contacts).toEqual({ addcontactlist: 4, modifycontact: 3 });
    expect(plan.sample.filter((s) => s.method === 'addcontactlist').map((s) => s.main)).toEqual([
      '34640000011',
      '34640000012',
      '34640000013',
      '34640000014',
    ]);
    const after = (await emulatorCalls(h.emulator.url)).byMethod;
    for (const m of WRITES) expect(after[m] ?? 0).toBe(before[m] ?? 0);
    expect(await stateRows(h)).toEqual(states);
    const marks = await h.db.query(`SELECT count(*)::int AS n FROM sync_dirty`);
    expect(marks.rows[0]).toEqual({ n: 7 });
    const status = parseJson<{ groups: { id: string; shadow: Plan | null }[] }>(
      await runCli(['status', '--json'], h.env),
    );
    expect(status.groups[0]?.shadow?.contacts).toEqual(plan.contacts);
    const text = await runCli(['status'], h.env);
    expect(text.stdout).toMatch(
      /g1: shadow plan \(nothing sent\): addcontactlist 1 \(4\), modifycontact 3 \(3\)/,
    );
  });

  it('sends exactly that plan once switched to live', async () => {
    await h.stopDaemon();
    const before = (await emulatorCalls(h.emulator.url)).byMethod;
    await h.startDaemon();
    await waitFor(() => drained(h), 30_000, 'the live sync');
    const after = (await emulatorCalls(h.emulator.url)).byMethod;
    const sent = Object.fromEntries(
      WRITES.map((m) => [m, (after[m] ?? 0) - (before[m] ?? 0)] as const).filter(([, n]) => n > 0),
    );
    expect(sent).toEqual(plan.calls);
    expect((await emulatorState(h.emulator.url))[0]?.contacts.length).toBe(14);
    expect(await compareWithEmulator(h)).toEqual([]);
    // A live daemon clears what shadow runs planned.
    expect((await h.db.query(`SELECT 1 FROM sync_shadow_plans`)).rowCount).toBe(0);
  });
});
