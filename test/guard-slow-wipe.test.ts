import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, emulatorState, waitFor, type Harness } from './support/harness.ts';
import { drained } from './support/sync-helpers.ts';

// One guard window stands for an hour; the day limit spans the whole test.
const WINDOW_MS = 1_500;

describe('a slow wipe that stays under the window’s percentage (F6 c)', () => {
  let h: Harness;
  let remoteId = '';
  const remoteCount = async () =>
    (await emulatorState(h.emulator.url)).find((r) => String(r.idgroup) === remoteId)?.contacts
      .length ?? -1;
  const openHolds = async () =>
    (
      await h.db.query<{ kind: string }>(
        `SELECT kind FROM sync_holds WHERE group_id = 'w' AND approved_at IS NULL`,
      )
    ).rows;

  beforeAll(async () => {
    h = await createHarness({
      env: {
        SWEEP_AFTER_MS: '1000',
        DELETE_GUARD_WINDOW_MS: String(WINDOW_MS),
        DELETE_GUARD_DAY_PERCENT: '50',
      },
    });
    await h.startDaemon();
    await h.db.query(`BEGIN;
      INSERT INTO groups (id, name, type, fields) VALUES ('w', 'W', 'mobile', '{mobile}');
      INSERT INTO contacts (id, mobile) SELECT 'w' || i, '3467' || lpad(i::text, 7, '0') FROM generate_series(1, 200) i;
      INSERT INTO group_members SELECT 'w', 'w' || i FROM generate_series(1, 200) i;
      COMMIT;`);
    await waitFor(() => drained(h), 30_000, 'initial sync');
    remoteId = (
      await h.db.query<{ afilnet_id: string }>(`SELECT afilnet_id FROM groups WHERE id = 'w'`)
    ).rows[0]?.afilnet_id as string;
  });
  afterAll(async () => h?.close());

  it('holds the wipe once half of the group went within a day', async () => {
    const removedPerHour: number[] = [];
    for (let hour = 0; hour < 10; hour++) {
      const left = Number(
        (
          await h.db.query<{ n: string }>(
            `SELECT count(*) AS n FROM group_members WHERE group_id = 'w'`,
          )
        ).rows[0]?.n,
      );
      const n = Math.floor(left * 0.15);
      await h.db.query(
        `DELETE FROM group_members WHERE group_id = 'w' AND contact_id IN (
           SELECT contact_id FROM group_members WHERE group_id = 'w' ORDER BY contact_id LIMIT $1)`,
        [n],
      );
      removedPerHour.push(n);
      await waitFor(
        async () => (await drained(h)) || (await openHolds()).length > 0,
        30_000,
        `hour ${hour}`,
      );
      if ((await openHolds()).length > 0) break;
      await new Promise((r) => setTimeout(r, WINDOW_MS + 300));
    }
    // 30 + 25 + 21 + 18 = 94 of 200 went; the fifth hour's 15 would pass 50 % of the day.
    expect(removedPerHour).toEqual([30, 25, 21, 18, 15]);
    expect(await openHolds()).toEqual([{ kind: 'deletes' }]);
    await new Promise((r) => setTimeout(r, 2_000));
    expect(await remoteCount()).toBe(200 - 94);
  });
});
