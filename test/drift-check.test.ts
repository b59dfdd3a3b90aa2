import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AfilnetClient } from '../src/afilnet/index.ts';
import { nextDriftCheck, parseDriftSchedule } from '../src/resync/drift-schedule.ts';
import {
  compareWithEmulator,
  createHarness,
  emulatorState,
  waitFor,
  type Harness,
} from './support/harness.ts';
import { drained } from './support/sync-helpers.ts';

/**
 * Scheduled drift checks (DRIFT_CHECK_SCHEDULE): a dry-run resync of every group, drift exported
 * as afilnet_sync_drift_members{group,kind}, small drift repaired by itself, large drift left for
 * an operator.
 */
const TOKEN = 'drift-test-token-0123456789';
const auth = { authorization: `Bearer ${TOKEN}` };

describe('DRIFT_CHECK_SCHEDULE', () => {
  it('reads intervals and cron expressions (UTC), and refuses what it cannot read', () => {
    const at = Date.parse('2026-12-07T10:17:30Z');
    expect(nextDriftCheck(parseDriftSchedule('6h'), at)).toBe(at + 6 * 3_600_000);
    expect(new Date(nextDriftCheck(parseDriftSchedule('0 3 * * *'), at)).toISOString()).toBe(
      '2026-12-08T03:00:00.000Z',
    );
    expect(new Date(nextDriftCheck(parseDriftSchedule('*/15 * * * 1-5'), at)).toISOString()).toBe(
      '2026-12-07T10:30:00.000Z',
    );
    expect(() => parseDriftSchedule('61 * * * *')).toThrow(/outside 0-59/);
    expect(() => parseDriftSchedule('often')).toThrow(/interval/);
  });
});

describe('scheduled drift checks against a daemon', () => {
  let h: Harness;
  let client: AfilnetClient;
  const remoteOf = async (group: string) => {
    const res = await h.db.query<{ afilnet_id: string }>(
      `SELECT afilnet_id FROM groups WHERE id = $1`,
      [group],
    );
    return res.rows[0]?.afilnet_id ?? '';
  };
  beforeAll(async () => {
    h = await createHarness({ env: { ADMIN_TOKEN: TOKEN } });
    client = AfilnetClient.fromConfig(h.config);
    await h.db.query(`
      INSERT INTO groups (id, name, type, fields) VALUES
        ('small', 'Small drift', 'mobile', '{mobile,name}'), ('large', 'Large drift', 'mobile', '{mobile,name}');
      INSERT INTO contacts (id, mobile, attributes)
        SELECT 'c' || i, '3466' || lpad(i::text, 7, '0'), jsonb_build_object('name', 'Name ' || i)
        FROM generate_series(1, 20) i;
      INSERT INTO group_members SELECT 'small', 'c' || i FROM generate_series(1, 10) i;
      INSERT INTO group_members SELECT 'large', 'c' || i FROM generate_series(11, 20) i;`);
    await h.startDaemon();
    await waitFor(() => drained(h), 30_000, 'the first sync');
    await h.stopDaemon();
    // Drift made in Afilnet: one name changed and one stranger in `small` (2 members), five
    // strangers in `large`.
    const small = await remoteOf('small');
    const first = (await emulatorState(h.emulator.url)).find((g) => String(g.idgroup) === small);
    await client.modifycontact(small, String(first?.contacts[0]?.idcontact), { name: 'Panel' });
    await client.addcontactlist(small, [{ mobile: '34699100001', name: 'Stranger' }]);
    await client.addcontactlist(
      await remoteOf('large'),
      [1, 2, 3, 4, 5].map((i) => ({ mobile: `3469920000${i}`, name: `Stranger ${i}` })),
    );
    await h.startDaemon({ DRIFT_CHECK_SCHEDULE: '2s', DRIFT_AUTO_APPLY_MAX: '3' });
  });
  afterAll(async () => {
    await client?.close();
    await h?.close();
  });

  it('repairs a drift of at most DRIFT_AUTO_APPLY_MAX members by itself', async () => {
    await waitFor(
      async () =>
        (
          await h.db.query(
            `SELECT 1 FROM sync_resync_runs WHERE started_by = 'drift-check' AND NOT dry_run`,
          )
        ).rowCount === 1,
      30_000,
      'the automatic apply',
    );
    await waitFor(
      async () => (await compareWithEmulator(h)).every((p) => p.startsWith('group large')),
      30_000,
      'small repaired',
    );
    const dry = await h.db.query<{ counts: Record<string, unknown> }>(
      `SELECT counts FROM sync_resync_runs WHERE started_by = 'drift-check' AND dry_run ORDER BY id LIMIT 1`,
    );
    expect(dry.rows[0]?.counts).toEqual({ small: { modify: 1, delete: 1 }, large: { delete: 5 } });
  });

  it('leaves a larger drift for an operator and exports it per group and kind', async () => {
    const metric = async () =>
      (await (await fetch(`${h.daemon?.adminUrl ?? ''}/metrics`, { headers: auth })).text())
        .split('\n')
        .filter((l) => l.startsWith('afilnet_sync_drift_members{'))
        .sort();
    await waitFor(
      async () =>
        (await metric()).includes('afilnet_sync_drift_members{group="small",kind="stale"} 0'),
      30_000,
      'a check after the repair',
    );
    expect(await metric()).toEqual([
      'afilnet_sync_drift_members{group="large",kind="missing"} 0',
      'afilnet_sync_drift_members{group="large",kind="stale"} 0',
      'afilnet_sync_drift_members{group="large",kind="unexpected"} 5',
      'afilnet_sync_drift_members{group="small",kind="missing"} 0',
      'afilnet_sync_drift_members{group="small",kind="stale"} 0',
      'afilnet_sync_drift_members{group="small",kind="unexpected"} 0',
    ]);
    expect(await compareWithEmulator(h)).toHaveLength(5);
    const applied = await h.db.query(
      `SELECT group_ids FROM sync_resync_runs WHERE started_by = 'drift-check' AND NOT dry_run`,
    );
    expect(applied.rows).toEqual([{ group_ids: ['small'] }]);
  });
});
