import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  compareWithEmulator,
  createHarness,
  emulatorCalls,
  setFaults,
  waitFor,
  type Harness,
} from './support/harness.ts';
import { drained } from './support/sync-helpers.ts';

for (const strictDocs of [false, true]) {
  describe(`under every emulator fault at once${strictDocs ? ' (strict-docs)' : ''}`, () => {
    let h: Harness;
    beforeAll(async () => {
      h = await createHarness({
        strictDocs,
        env: {
          AFILNET_BATCH_SIZE: '50',
          SWEEP_AFTER_MS: '2000',
          AFILNET_HEADERS_TIMEOUT_MS: '2000',
        },
      });
      if (strictDocs) {
        const res = await fetch(`${h.emulator.url}/api/http/`, {
          method: 'POST',
          body: new URLSearchParams({
            class: 'group',
            method: 'creategroup',
            user: 'demo',
            password: 'demo',
            name: 'F',
            type: 'mobile',
            fields: 'mobile,name',
          }),
        });
        expect(res.status).toBe(200);
        const state = (await (await fetch(`${h.emulator.url}/__emulator/state`)).json()) as {
          groups: { idgroup: number }[];
        };
        await h.db.query(
          `INSERT INTO groups (id, name, type, fields, afilnet_id) VALUES ('f', 'F', 'mobile', '{mobile,name}', $1)`,
          [String(state.groups[0]?.idgroup)],
        );
      } else {
        await h.db.query(
          `INSERT INTO groups (id, name, type, fields) VALUES ('f', 'F', 'mobile', '{mobile,name}')`,
        );
      }
      await h.startDaemon();
      await waitFor(() => drained(h), 30_000, 'group creation');
      await setFaults(h.emulator.url, {
        errorRate: 0.1,
        resetRate: 0.05,
        appliedThenResetRate: 0.05,
        rateLimitPerSecond: 150,
      });
    });
    afterAll(async () => h?.close());

    it('converges to the database with no duplicate contact', async () => {
      await h.db.query(`BEGIN;
        INSERT INTO contacts (id, mobile, attributes)
          SELECT 'c' || i, '3470' || lpad(i::text, 7, '0'), jsonb_build_object('name', 'N' || i) FROM generate_series(1, 1000) i;
        INSERT INTO group_members SELECT 'f', 'c' || i FROM generate_series(1, 1000) i;
        COMMIT;`);
      await new Promise((r) => setTimeout(r, 1500));
      await h.db.query(
        `UPDATE contacts SET attributes = '{"name":"changed"}' WHERE id IN (SELECT 'c' || i FROM generate_series(1, 200) i)`,
      );
      await h.db.query(
        `DELETE FROM group_members WHERE contact_id IN (SELECT 'c' || i FROM generate_series(901, 950) i)`,
      );
      await waitFor(() => drained(h), 120_000, 'convergence under faults');
      const calls = await emulatorCalls(h.emulator.url);
      expect(calls.rejected.fault ?? 0).toBeGreaterThan(0);
      await setFaults(h.emulator.url, {
        errorRate: 0,
        resetRate: 0,
        appliedThenResetRate: 0,
        rateLimitPerSecond: 0,
      });
      expect(await compareWithEmulator(h)).toEqual([]);
    }, 180_000);
  });
}
