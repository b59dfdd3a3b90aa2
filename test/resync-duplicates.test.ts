import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AfilnetClient } from '../src/afilnet/index.ts';
import { startResync, type ResyncRun } from '../src/resync/index.ts';
import {
  compareWithEmulator,
  createHarness,
  emulatorState,
  waitFor,
  type Harness,
} from './support/harness.ts';
import { applyResync, callsDuring, servicesOf } from './support/resync-helpers.ts';
import { drained } from './support/sync-helpers.ts';

describe('resync of a group holding the same main field twice remotely', () => {
  let h: Harness;
  let client: AfilnetClient;
  let remoteId = '';
  beforeAll(async () => {
    h = await createHarness();
    client = AfilnetClient.fromConfig(h.config);
    await h.db.query(`
      INSERT INTO groups (id, name, type, fields) VALUES ('g', 'Dups', 'mobile', '{mobile,name}');
      INSERT INTO contacts (id, mobile, attributes)
        SELECT 'c' || i, '3462' || lpad(i::text, 7, '0'), jsonb_build_object('name', 'N' || i) FROM generate_series(1, 50) i;
      INSERT INTO group_members SELECT 'g', 'c' || i FROM generate_series(1, 50) i;`);
    await h.startDaemon();
    await waitFor(() => drained(h), 30_000, 'the first sync');
    remoteId =
      (await h.db.query<{ afilnet_id: string }>(`SELECT afilnet_id FROM groups WHERE id = 'g'`))
        .rows[0]?.afilnet_id ?? '';
    // Planted the way an old import in Afilnet's panel could: the API itself refuses duplicates.
    for (const i of [1, 2, 2]) {
      const res = await fetch(`${h.emulator.url}/__emulator/contacts`, {
        method: 'POST',
        body: JSON.stringify({
          account: 'demo',
          idgroup: remoteId,
          fields: { mobile: `3462${String(i).padStart(7, '0')}`, name: 'Copy' },
        }),
      });
      expect(res.status).toBe(200);
    }
  });
  afterAll(async () => {
    await client?.close();
    await h?.close();
  });

  it('keeps one remote contact per member and deletes the extras', async () => {
    const before = (await emulatorState(h.emulator.url)).find(
      (g) => String(g.idgroup) === remoteId,
    );
    expect(before?.contacts).toHaveLength(53);
    const services = servicesOf(h, client);
    const dry = await startResync(services, {
      groups: ['g'],
      dryRun: true,
      startedBy: 'test@host',
    });
    expect(dry.counts.g).toMatchObject({ duplicate: 3 });
    let run: ResyncRun | undefined;
    const calls = await callsDuring(h, async () => {
      run = await applyResync(h, services, ['g']);
    });
    expect(run?.status).toBe('done');
    expect(calls.deletecontact).toBe(3);
    expect(calls.addcontactlist ?? 0).toBe(0);
    expect(await compareWithEmulator(h)).toEqual([]);
    const after = (await emulatorState(h.emulator.url)).find((g) => String(g.idgroup) === remoteId);
    expect(after?.contacts).toHaveLength(50);
    expect(after?.contacts.filter((c) => c.fields.name === 'Copy')).toEqual([]);
  });
});
