import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, emulatorState, waitFor, type Harness } from './support/harness.ts';
import { drained } from './support/sync-helpers.ts';

describe('live changes during bulk work', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness({ env: { AFILNET_RATE_LIMIT: '40' } });
    await h.db.query(`BEGIN;
      INSERT INTO groups (id, name, type, fields) VALUES ('bulk', 'Bulk', 'mobile', '{mobile}'), ('live', 'Live', 'mobile', '{mobile,name}');
      INSERT INTO contacts (id, mobile, attributes)
        SELECT 'c' || i, '3467' || lpad(i::text, 7, '0'), jsonb_build_object('name', 'N' || i, 'city', 'C' || i) FROM generate_series(1, 800) i;
      INSERT INTO group_members SELECT 'bulk', 'c' || i FROM generate_series(1, 800) i;
      INSERT INTO group_members SELECT 'live', 'c' || i FROM generate_series(1, 5) i;
      COMMIT;`);
    await h.startDaemon();
    await waitFor(() => drained(h), 60_000, 'initial sync');
  });
  afterAll(async () => h?.close());

  const remoteName = async (groupId: string, mobile: string, field: string) => {
    const row = await h.db.query<{ afilnet_id: string }>(
      'SELECT afilnet_id FROM groups WHERE id = $1',
      [groupId],
    );
    const g = (await emulatorState(h.emulator.url)).find(
      (r) => String(r.idgroup) === row.rows[0]?.afilnet_id,
    );
    return g?.contacts.find((c) => c.fields.mobile === mobile)?.fields[field];
  };
  const bulkLeft = async () =>
    Number(
      (
        await h.db.query<{ n: string }>(
          `SELECT count(*) AS n FROM sync_dirty WHERE group_id = 'bulk'`,
        )
      ).rows[0]?.n,
    );

  it('syncs live changes, in another group and in the same group, before the bulk work finishes', async () => {
    // Adding a column makes 800 bulk modifies: 20 s at 40 calls/s.
    await h.db.query(`UPDATE groups SET fields = '{mobile,city}' WHERE id = 'bulk'`);
    await waitFor(async () => (await bulkLeft()) > 0, 10_000, 'bulk work to start');
    await new Promise((r) => setTimeout(r, 1_000));
    await h.db.query(
      `UPDATE contacts SET attributes = attributes || '{"name":"live!"}' WHERE id = 'c1'`,
    );
    await h.db.query(
      `UPDATE contacts SET attributes = attributes || '{"city":"moved"}' WHERE id = 'c700'`,
    );
    await waitFor(
      async () => (await remoteName('live', '34670000001', 'name')) === 'live!',
      10_000,
      'the live change in the other group',
    );
    await waitFor(
      async () => (await remoteName('bulk', '34670000700', 'city')) === 'moved',
      10_000,
      'the live change in the bulk group',
    );
    const left = await bulkLeft();
    console.info(`priority: live changes synced with ${left} bulk modifies still pending`);
    expect(left).toBeGreaterThan(100);
    await waitFor(() => drained(h), 60_000, 'bulk work to finish');
  }, 120_000);
});
