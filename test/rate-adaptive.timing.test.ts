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

describe('the adaptive rate budget under a provider limit below AFILNET_RATE_LIMIT', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness({ env: { AFILNET_RATE_LIMIT: '300', SYNC_CONCURRENCY: '8' } });
    await h.db.query(
      `INSERT INTO groups (id, name, type, fields) SELECT 'g' || i, 'G' || i, 'mobile', '{mobile,name}' FROM generate_series(1, 4) i`,
    );
    await h.db.query(`BEGIN;
      INSERT INTO contacts (id, mobile, attributes)
        SELECT 'c' || i, '3466' || lpad(i::text, 7, '0'), jsonb_build_object('name', 'N' || i) FROM generate_series(1, 2500) i;
      INSERT INTO group_members SELECT 'g' || (1 + i % 4), 'c' || i FROM generate_series(1, 2500) i;
      COMMIT;`);
  });
  afterAll(async () => h?.close());

  it('drains a backlog of 5,000 changes with under 2 % of calls answered 429', async () => {
    await h.startDaemon();
    await waitFor(() => drained(h), 60_000, 'the initial sync');
    await h.stopDaemon();
    // The backlog: 5,000 change events (every contact updated twice) waiting while no daemon runs.
    for (let round = 0; round < 2; round++) {
      await h.db.query(
        `UPDATE contacts SET attributes = jsonb_build_object('name', 'R${round}-' || id)`,
      );
    }
    const before = await emulatorCalls(h.emulator.url);
    await setFaults(h.emulator.url, { rateLimitPerSecond: 100 });
    const started = Date.now();
    await h.startDaemon();
    await waitFor(() => drained(h), 150_000, 'the backlog to drain');
    const seconds = (Date.now() - started) / 1000;
    const after = await emulatorCalls(h.emulator.url);
    const calls = { total: after.total - before.total };
    const limited = (after.rejected.rate_limited ?? 0) - (before.rejected.rate_limited ?? 0);
    // byMethod counts refused calls too: 2,500 modifies plus one retry per 429.
    expect((after.byMethod.modifycontact ?? 0) - (before.byMethod.modifycontact ?? 0)).toBe(
      2500 + limited,
    );
    console.info(
      `rate: ${calls.total} calls (${limited} answered 429, ${((100 * limited) / calls.total).toFixed(2)} %) in ${seconds.toFixed(1)} s = ${(calls.total / seconds).toFixed(1)} calls/s against a limit of 100/s`,
    );
    expect(limited / calls.total).toBeLessThan(0.02);
    await setFaults(h.emulator.url, { rateLimitPerSecond: 0 });
    expect(await compareWithEmulator(h)).toEqual([]);
  }, 200_000);
});
