import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AfilnetClient } from '../src/afilnet/index.ts';
import {
  compareWithEmulator,
  createHarness,
  emulatorState,
  waitFor,
  type Harness,
} from './support/harness.ts';
import { callsDuring } from './support/resync-helpers.ts';
import { parseJson, runCli } from './support/run-cli.ts';
import { drained } from './support/sync-helpers.ts';

/**
 * REMOTE_REMOVALS: a contact removed in Afilnet (deleted in the panel, unsubscribed) is, under
 * respect (the default), an opt-out that nothing re-adds until an operator clears it; under
 * readd it is put back as before. Through SQL writes, the daemon, the CLI, admin HTTP and the
 * afilnet_opt_outs view, with the emulator's exact call counts.
 */
const TOKEN = 'opt-out-test-token-0123456789';
const auth = { authorization: `Bearer ${TOKEN}` };
const mobileOf = (i: number) => `3462${String(i).padStart(7, '0')}`;

async function seed(h: Harness): Promise<{ client: AfilnetClient; remoteId: string }> {
  await h.db.query(`
    INSERT INTO groups (id, name, type, fields) VALUES ('g1', 'Customers', 'mobile', '{mobile,name}');
    INSERT INTO contacts (id, mobile, attributes)
      SELECT 'c' || i, '3462' || lpad(i::text, 7, '0'), jsonb_build_object('name', 'Name ' || i)
      FROM generate_series(1, 10) i;
    INSERT INTO group_members SELECT 'g1', 'c' || i FROM generate_series(1, 10) i;`);
  await h.startDaemon();
  await waitFor(() => drained(h), 30_000, 'the first sync');
  const res = await h.db.query<{ afilnet_id: string }>(`SELECT afilnet_id FROM groups`);
  return { client: AfilnetClient.fromConfig(h.config), remoteId: res.rows[0]?.afilnet_id ?? '' };
}

/** Deletes members' contacts in Afilnet directly, as a person in the panel would. */
async function deleteRemotely(h: Harness, client: AfilnetClient, remoteId: string, ids: number[]) {
  const group = (await emulatorState(h.emulator.url)).find((g) => String(g.idgroup) === remoteId);
  for (const i of ids) {
    const c = group?.contacts.find((x) => x.fields.mobile === mobileOf(i));
    await client.deletecontact(remoteId, String(c?.idcontact));
  }
}

const rename = (h: Harness, ids: string[], name: string) =>
  h.db.query(
    `UPDATE contacts SET attributes = jsonb_build_object('name', $2::text) WHERE id = ANY($1)`,
    [ids, name],
  );

describe('REMOTE_REMOVALS=respect (the default)', () => {
  let h: Harness;
  let client: AfilnetClient;
  let remoteId: string;
  beforeAll(async () => {
    h = await createHarness({ env: { ADMIN_TOKEN: TOKEN } });
    ({ client, remoteId } = await seed(h));
  });
  afterAll(async () => {
    await client?.close();
    await h?.close();
  });

  it('records a modify answered "no such contact" as an opt-out and re-adds nothing', async () => {
    await deleteRemotely(h, client, remoteId, [1]);
    const calls = await callsDuring(h, async () => {
      await rename(h, ['c1'], 'Changed');
      await waitFor(() => drained(h), 30_000, 'the change');
    });
    expect(calls).toEqual({ modifycontact: 1 });
    const view = await h.db.query(
      `SELECT group_id, contact_id, main_value FROM afilnet_opt_outs ORDER BY contact_id`,
    );
    expect(view.rows).toEqual([{ group_id: 'g1', contact_id: 'c1', main_value: mobileOf(1) }]);
    // Later changes of an opted-out member cost nothing and send nothing.
    const again = await callsDuring(h, async () => {
      await rename(h, ['c1'], 'Changed again');
      await waitFor(() => drained(h), 30_000, 'the second change');
    });
    expect(again).toEqual({});
  });

  it('shows a member deleted remotely as an opt_out in a resync plan, not an add', async () => {
    await deleteRemotely(h, client, remoteId, [2, 3]);
    const res = await fetch(`${h.daemon?.adminUrl ?? ''}/resync`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ groups: ['g1'], dryRun: true }),
    });
    expect(res.status).toBe(200);
    const run = (await res.json()) as { counts: Record<string, Record<string, number>> };
    // c1 was already opted out; c2 and c3 are found by the resync.
    expect(run.counts.g1).toEqual({ opt_out: 3 });
    const list = parseJson<{ optOuts: { contactId: string; source: string }[] }>(
      await runCli(['opt-outs', 'list', '--group', 'g1', '--json'], h.env),
    );
    expect(list.optOuts.map((o) => [o.contactId, o.source])).toEqual([
      ['c1', 'modifycontact'],
      ['c2', 'resync'],
      ['c3', 'resync'],
    ]);
  });

  it('applies a resync without re-adding the opted-out members', async () => {
    const calls = await callsDuring(h, async () => {
      const res = await fetch(`${h.daemon?.adminUrl ?? ''}/resync`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({ groups: ['g1'] }),
      });
      expect(res.status).toBe(202);
      const { id } = (await res.json()) as { id: string };
      // GET /resync/:id is what moves a run to done once its marks are gone.
      await waitFor(
        async () => {
          const run = await fetch(`${h.daemon?.adminUrl ?? ''}/resync/${id}`, { headers: auth });
          return ((await run.json()) as { status: string }).status === 'done';
        },
        30_000,
        'the resync',
      );
      await waitFor(() => drained(h), 30_000, 'the sync');
    });
    expect(calls).toEqual({ getgroupcolumns: 1, getcontacts: 1 });
    const remote = (await emulatorState(h.emulator.url))[0]?.contacts.length;
    expect(remote).toBe(7);
  });

  it('refuses writes to the view: clearing is the operator’s decision', async () => {
    await expect(h.db.query(`DELETE FROM afilnet_opt_outs`)).rejects.toThrow(
      /cannot delete from view/,
    );
  });

  it('re-adds a member once its opt-out is cleared (CLI and admin HTTP)', async () => {
    const calls = await callsDuring(h, async () => {
      const cli = await runCli(['opt-outs', 'clear', 'g1', 'c1'], h.env);
      expect(cli.code).toBe(0);
      const res = await fetch(`${h.daemon?.adminUrl ?? ''}/groups/g1/opt-outs/c2`, {
        method: 'DELETE',
        headers: auth,
      });
      expect(res.status).toBe(200);
      await waitFor(() => drained(h), 30_000, 'the re-adds');
    });
    // Only adds: one batch per clear at most (the two clears may share one).
    expect(Object.keys(calls)).toEqual(['addcontactlist']);
    expect(calls.addcontactlist).toBeLessThanOrEqual(2);
    const left = await h.db.query(`SELECT contact_id FROM afilnet_opt_outs`);
    expect(left.rows).toEqual([{ contact_id: 'c3' }]);
    expect(await compareWithEmulator(h)).toEqual([
      `group g1: member c3 (${mobileOf(3)}) missing remotely`,
    ]);
    const unknown = await fetch(`${h.daemon?.adminUrl ?? ''}/groups/g1/opt-outs/c9`, {
      method: 'DELETE',
      headers: auth,
    });
    expect(unknown.status).toBe(404);
  });
});

describe('REMOTE_REMOVALS=readd', () => {
  let h: Harness;
  let client: AfilnetClient;
  let remoteId: string;
  beforeAll(async () => {
    h = await createHarness({ env: { REMOTE_REMOVALS: 'readd' } });
    ({ client, remoteId } = await seed(h));
  });
  afterAll(async () => {
    await client?.close();
    await h?.close();
  });

  it('puts a member deleted remotely back on its next change, and records no opt-out', async () => {
    await deleteRemotely(h, client, remoteId, [1]);
    const calls = await callsDuring(h, async () => {
      await rename(h, ['c1'], 'Changed');
      await waitFor(() => drained(h), 30_000, 'the change');
    });
    expect(calls).toEqual({ modifycontact: 1, addcontactlist: 1 });
    expect((await h.db.query(`SELECT 1 FROM afilnet_opt_outs`)).rowCount).toBe(0);
    expect(await compareWithEmulator(h)).toEqual([]);
  });
});
