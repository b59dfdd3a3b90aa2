import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  compareWithEmulator,
  createHarness,
  emulatorCalls,
  waitFor,
  type Harness,
} from './support/harness.ts';
import { drained } from './support/sync-helpers.ts';

async function callsDuring(h: Harness, work: () => Promise<void>): Promise<Record<string, number>> {
  const before = (await emulatorCalls(h.emulator.url)).byMethod;
  await work();
  await waitFor(() => drained(h), 60_000, 'the sync to drain');
  const after = (await emulatorCalls(h.emulator.url)).byMethod;
  const diff: Record<string, number> = {};
  for (const [m, n] of Object.entries(after)) {
    const d = n - (before[m] ?? 0);
    if (d > 0) diff[m] = d;
  }
  return diff;
}

for (const strictDocs of [false, true]) {
  describe(`end to end from plain SQL${strictDocs ? ' (emulator in --strict-docs mode)' : ''}`, () => {
    let h: Harness;
    const batch = 500;
    beforeAll(async () => {
      h = await createHarness({ strictDocs });
      await h.db.query(
        `INSERT INTO groups (id, name, type, fields, afilnet_id) VALUES ('g1', 'Customers', 'mobile', '{mobile,name}', $1),
                                                                     ('g2', 'Newsletter', 'mobile', '{mobile,name}', $2)`,
        [null, null],
      );
      if (strictDocs) {
        // creategroup answers without an id in this mode: link pre-made remote groups instead.
        const { AfilnetClient } = await import('../src/afilnet/index.ts');
        const c = new AfilnetClient({
          baseUrl: h.emulator.url,
          user: 'demo',
          password: 'demo',
          auth: 'post',
        });
        // The ids are read back from the emulator's inspection endpoint, as an operator would
        // read them from Afilnet's panel.
        await c.creategroup({ name: 'Customers', type: 'mobile', fields: ['mobile', 'name'] });
        await c.creategroup({ name: 'Newsletter', type: 'mobile', fields: ['mobile', 'name'] });
        await c.close();
        const state = (await (await fetch(`${h.emulator.url}/__emulator/state`)).json()) as {
          groups: { idgroup: number; name: string }[];
        };
        for (const g of state.groups) {
          await h.db.query('UPDATE groups SET afilnet_id = $1 WHERE name = $2', [
            String(g.idgroup),
            g.name,
          ]);
        }
      }
      await h.startDaemon();
      await waitFor(() => drained(h), 30_000, 'groups to be created');
    });
    afterAll(async () => h?.close());

    it('sends a group of 2,000 members inserted in one transaction through addcontactlist only', async () => {
      const calls = await callsDuring(h, async () => {
        await h.db.query(`
          BEGIN;
          INSERT INTO contacts (id, mobile, attributes)
            SELECT 'c' || i, '346' || lpad(i::text, 8, '0'), jsonb_build_object('name', 'Name ' || i)
            FROM generate_series(1, 2000) i;
          INSERT INTO group_members (group_id, contact_id) SELECT 'g1', 'c' || i FROM generate_series(1, 2000) i;
          INSERT INTO group_members (group_id, contact_id) SELECT 'g2', 'c' || i FROM generate_series(1, 10) i;
          COMMIT;`);
      });
      expect(calls.addcontact ?? 0).toBe(0);
      expect(calls.addcontactlist).toBe(Math.ceil(2000 / batch) + 1);
      expect(await compareWithEmulator(h)).toEqual([]);
    });

    it('turns 100 real updates into 100 modifycontact calls and 50 invisible ones into none', async () => {
      const calls = await callsDuring(h, async () => {
        await h.db
          .query(`UPDATE contacts SET attributes = jsonb_build_object('name', 'Renamed ' || id)
                          WHERE id IN (SELECT 'c' || i FROM generate_series(11, 110) i)`);
        await h.db.query(`UPDATE contacts SET attributes = attributes || '{"unsynced":"x"}'
                          WHERE id IN (SELECT 'c' || i FROM generate_series(200, 249) i)`);
      });
      expect(calls.modifycontact).toBe(100);
      // In strict-docs mode the ids come from one getcontacts per group run.
      expect(calls.getcontacts ?? 0).toBeLessThanOrEqual(strictDocs ? 2 : 0);
      expect(
        Object.keys(calls).filter((m) => m !== 'modifycontact' && m !== 'getcontacts'),
      ).toEqual([]);
      expect(await compareWithEmulator(h)).toEqual([]);
    });

    it('deletes 100 removed memberships with 100 deletecontact calls', async () => {
      const calls = await callsDuring(h, async () => {
        await h.db.query(`DELETE FROM group_members WHERE group_id = 'g1'
                          AND contact_id IN (SELECT 'c' || i FROM generate_series(1001, 1100) i)`);
      });
      expect(calls.deletecontact).toBe(100);
      expect(await compareWithEmulator(h)).toEqual([]);
    });

    it('removes a deleted contact from every group', async () => {
      const calls = await callsDuring(h, async () => {
        await h.db.query(`DELETE FROM contacts WHERE id = 'c5'`);
      });
      expect(calls.deletecontact).toBe(2);
      expect(await compareWithEmulator(h)).toEqual([]);
    });

    it('costs nothing for an add then delete before syncing, and one call for several updates', async () => {
      const calls = await callsDuring(h, async () => {
        await h.db.query(`BEGIN;
          INSERT INTO contacts (id, mobile) VALUES ('tmp', '34699999999');
          INSERT INTO group_members VALUES ('g1', 'tmp');
          DELETE FROM contacts WHERE id = 'tmp';
          UPDATE contacts SET attributes = '{"name":"A"}' WHERE id = 'c7';
          UPDATE contacts SET attributes = '{"name":"B"}' WHERE id = 'c7';
          COMMIT;`);
      });
      expect(calls).toEqual(
        strictDocs
          ? { modifycontact: 2, ...(calls.getcontacts ? { getcontacts: calls.getcontacts } : {}) }
          : { modifycontact: 2 },
      );
      expect(await compareWithEmulator(h)).toEqual([]);
    });
  });
}
