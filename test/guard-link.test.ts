import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AfilnetClient } from '../src/afilnet/index.ts';
import { approveGroupDeletes } from '../src/operator/approve-group-deletes.ts';
import { statusReport } from '../src/operator/status-report.ts';
import { startResync } from '../src/resync/index.ts';
import {
  compareWithEmulator,
  createHarness,
  emulatorState,
  waitFor,
  type Harness,
} from './support/harness.ts';
import { applyResync, callsDuring, servicesOf } from './support/resync-helpers.ts';
import { drained } from './support/sync-helpers.ts';

const mobile = (i: number) => `3463${String(i).padStart(7, '0')}`;

/** Opens holds of a group, as `approve-deletes` would review them. */
async function openHolds(h: Harness, groupId: string) {
  const res = await h.db.query<{ kind: string; subject: string | null; count: number }>(
    `SELECT kind, subject, count FROM sync_holds
     WHERE group_id = $1 AND approved_at IS NULL ORDER BY id`,
    [groupId],
  );
  return res.rows;
}

async function remoteGroup(h: Harness, idgroup: string) {
  const group = (await emulatorState(h.emulator.url)).find((g) => String(g.idgroup) === idgroup);
  if (!group) throw new Error(`no remote group ${idgroup}`);
  return group;
}

/** How many contacts of the remote group hold a value in `field`. */
async function valuesIn(h: Harness, idgroup: string, field: string): Promise<number> {
  return (await remoteGroup(h, idgroup)).contacts.filter((c) => (c.fields[field] ?? '') !== '')
    .length;
}

/** Adds a column in the panel, with values for the first `filled` contacts. */
async function panelColumn(h: Harness, idgroup: string, field: string, filled: number) {
  const ids = (await remoteGroup(h, idgroup)).contacts.slice(0, filled).map((c) => c.idcontact);
  const values = Object.fromEntries(ids.map((id, i) => [String(id), `1990-01-${(i % 28) + 1}`]));
  const res = await fetch(`${h.emulator.url}/__emulator/groups/${idgroup}/columns`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ field, values }),
  });
  expect(res.status).toBe(200);
}

describe('linking a remote group whose columns the row does not name (F2)', () => {
  let h: Harness;
  let client: AfilnetClient;
  let idgroup: string;
  beforeAll(async () => {
    h = await createHarness({ env: { SWEEP_AFTER_MS: '1000' } });
    client = AfilnetClient.fromConfig(h.config);
    idgroup = String(
      (await client.creategroup({ name: 'Panel', type: 'mobile', fields: ['mobile', 'name'] }))
        .idgroup,
    );
    await client.addcontactlist(
      idgroup,
      Array.from({ length: 60 }, (_, k) => ({ mobile: mobile(k + 1), name: `Name ${k + 1}` })),
    );
    await panelColumn(h, idgroup, 'birthday', 50);
    await panelColumn(h, idgroup, 'note', 0);
    await h.db.query(
      `INSERT INTO contacts (id, mobile, attributes)
       SELECT 'c' || i, '3463' || lpad(i::text, 7, '0'), jsonb_build_object('name', 'Name ' || i)
       FROM generate_series(1, 60) i`,
    );
    await h.startDaemon();
  });
  afterAll(async () => {
    await client?.close();
    await h?.close();
  });

  it('keeps a column holding values, and its values, held until approved; drops an empty one', async () => {
    const calls = await callsDuring(h, async () => {
      await h.db.query(
        `INSERT INTO groups (id, name, type, fields, afilnet_id)
         VALUES ('linked', 'Panel', 'mobile', '{mobile,name}', $1);
         `.replace('$1', `'${idgroup}'`) +
          `INSERT INTO group_members SELECT 'linked', 'c' || i FROM generate_series(1, 60) i;`,
      );
      await waitFor(() => drained(h), 30_000, 'the link to be synced');
    });
    // One read counts the values of the columns the row does not name; one settles the members.
    expect(calls).toEqual({ getgroupcolumns: 1, getcontacts: 2, deletecolumnfromgroup: 1 });
    expect((await remoteGroup(h, idgroup)).fields).toEqual(['mobile', 'name', 'birthday']);
    expect(await valuesIn(h, idgroup, 'birthday')).toBe(50);
    expect(await openHolds(h, 'linked')).toEqual([
      { kind: 'delete_column', subject: 'birthday', count: 50 },
    ]);
    expect(await compareWithEmulator(h)).toEqual([]);

    const status = (await statusReport({ pool: h.db })).groups.find((g) => g.id === 'linked');
    expect(status).toMatchObject({
      status: 'held',
      heldDeletes: 50,
      holds: [{ kind: 'delete_column', subject: 'birthday', count: 50 }],
    });
    expect(status?.lastError).toMatch(/column "birthday" holds 50 values/);

    // Nothing else releases it: a later change of the group leaves the column alone.
    await h.db.query(`UPDATE groups SET country_iso3 = 'esp' WHERE id = 'linked'`);
    await waitFor(() => drained(h), 30_000, 'the country');
    expect(await valuesIn(h, idgroup, 'birthday')).toBe(50);
  });

  it('deletes the column once approved, and only that', async () => {
    const daemon = h.daemon;
    if (!daemon) throw new Error('daemon');
    const calls = await callsDuring(h, async () => {
      const approved = await approveGroupDeletes(
        { pool: h.db, queue: daemon.queue },
        'linked',
        't',
      );
      expect(approved.released).toBe(1);
      await waitFor(
        async () => !(await remoteGroup(h, idgroup)).fields.includes('birthday'),
        30_000,
        'the approved column delete',
      );
      await waitFor(() => drained(h), 30_000, 'the approval');
    });
    expect(calls).toEqual({ deletecolumnfromgroup: 1 });
    expect(await openHolds(h, 'linked')).toEqual([]);
    const state = await h.db.query(`SELECT status FROM sync_group_state WHERE group_id = 'linked'`);
    expect(state.rows[0]).toEqual({ status: 'ok' });
  });

  it('holds a resync plan’s column delete when the column holds values', async () => {
    await panelColumn(h, idgroup, 'birthday', 7);
    await panelColumn(h, idgroup, 'empty', 0);
    const services = servicesOf(h, client);
    const dry = await startResync(services, { groups: ['linked'], dryRun: true, startedBy: 't' });
    expect(dry.counts.linked).toEqual({ delete_column: 2 });
    const items = await h.db.query(
      `SELECT main_value, detail FROM sync_resync_items WHERE run_id = $1 ORDER BY main_value`,
      [dry.id],
    );
    expect(items.rows).toEqual([
      { main_value: 'birthday', detail: { values: 7 } },
      { main_value: 'empty', detail: { values: 0 } },
    ]);

    const calls = await callsDuring(h, () => applyResync(h, services, ['linked']));
    expect(calls).toEqual({ getgroupcolumns: 1, getcontacts: 1, deletecolumnfromgroup: 1 });
    expect((await remoteGroup(h, idgroup)).fields).toEqual(['mobile', 'name', 'birthday']);
    expect(await valuesIn(h, idgroup, 'birthday')).toBe(7);
    expect(await openHolds(h, 'linked')).toEqual([
      { kind: 'delete_column', subject: 'birthday', count: 7 },
    ]);

    const daemon = h.daemon;
    if (!daemon) throw new Error('daemon');
    await approveGroupDeletes({ pool: h.db, queue: daemon.queue }, 'linked', 't');
    await waitFor(
      async () => !(await remoteGroup(h, idgroup)).fields.includes('birthday'),
      30_000,
      'the approved column delete',
    );
    expect(await compareWithEmulator(h)).toEqual([]);
  });
});

describe('a member removed after a link, before it was matched (F6 d)', () => {
  let h: Harness;
  let client: AfilnetClient;
  beforeAll(async () => {
    // A slow budget leaves time between the link being recorded and the member loop.
    h = await createHarness({ env: { AFILNET_RATE_LIMIT: '0.5' } });
    client = AfilnetClient.fromConfig(h.config);
  });
  afterAll(async () => {
    await client?.close();
    await h?.close();
  });

  it('finds it by its main value and deletes its remote contact', async () => {
    const { idgroup } = await client.creategroup({
      name: 'Late',
      type: 'mobile',
      fields: ['mobile', 'name'],
    });
    const id = String(idgroup);
    await client.addcontactlist(
      id,
      [1, 2, 3].map((i) => ({ mobile: mobile(100 + i), name: `N${i}` })),
    );
    await h.db.query(
      `INSERT INTO contacts (id, mobile, attributes)
       SELECT 'l' || i, '3463' || lpad((100 + i)::text, 7, '0'), jsonb_build_object('name', 'N' || i)
       FROM generate_series(1, 3) i;
       INSERT INTO groups (id, name, type, fields, afilnet_id)
       VALUES ('late', 'Late', 'mobile', '{mobile,name,city}', '${id}');
       INSERT INTO group_members SELECT 'late', 'l' || i FROM generate_series(1, 3) i;`,
    );
    await h.startDaemon();
    await waitFor(
      async () =>
        (
          await h.db.query(
            `SELECT 1 FROM sync_group_state WHERE group_id = 'late' AND remote_id IS NOT NULL`,
          )
        ).rowCount === 1,
      20_000,
      'the link to be recorded',
    );
    // Linked (the city column is still waiting for the budget), not yet matched.
    const before = await h.db.query(
      `SELECT remote_id, uncertain, main_value FROM sync_member_state
       WHERE group_id = 'late' AND contact_id = 'l2'`,
    );
    expect(before.rows).toEqual([{ remote_id: null, uncertain: true, main_value: mobile(102) }]);
    await h.db.query(`DELETE FROM group_members WHERE group_id = 'late' AND contact_id = 'l2'`);
    await waitFor(() => drained(h), 60_000, 'the sync');
    const remote = (await emulatorState(h.emulator.url)).find((g) => String(g.idgroup) === id);
    expect(remote?.contacts.map((c) => c.fields.mobile).sort()).toEqual([mobile(101), mobile(103)]);
    expect(await compareWithEmulator(h)).toEqual([]);
    const left = await h.db.query(
      `SELECT contact_id FROM sync_member_state WHERE group_id = 'late' ORDER BY contact_id`,
    );
    expect(left.rows).toEqual([{ contact_id: 'l1' }, { contact_id: 'l3' }]);
  });
});
