import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, emulatorState, waitFor, type Harness } from './support/harness.ts';
import { parseJson, runCli } from './support/run-cli.ts';
import { drained, settled } from './support/sync-helpers.ts';

describe('operator commands against a running daemon', () => {
  let h: Harness;
  const remoteMobiles = async (groupId: string): Promise<string[]> => {
    const row = await h.db.query<{ afilnet_id: string }>(
      'SELECT afilnet_id FROM groups WHERE id = $1',
      [groupId],
    );
    const g = (await emulatorState(h.emulator.url)).find(
      (r) => String(r.idgroup) === row.rows[0]?.afilnet_id,
    );
    return (g?.contacts ?? []).map((c) => c.fields.mobile ?? '').sort();
  };
  const memberStatus = async (contactId: string) =>
    (
      await h.db.query<{ status: string }>(
        'SELECT status FROM sync_member_state WHERE contact_id = $1',
        [contactId],
      )
    ).rows[0]?.status;

  beforeAll(async () => {
    h = await createHarness({ env: { MAX_FIELD_LENGTH: '100' } });
    await h.startDaemon();
    await h.db.query(`BEGIN;
      INSERT INTO groups (id, name, type, fields) VALUES ('g', 'Retry', 'mobile', '{mobile,name}'),
                                                        ('big', 'Guarded', 'mobile', '{mobile}');
      INSERT INTO contacts (id, mobile, attributes) VALUES ('long', '34677000001', jsonb_build_object('name', repeat('n', 150)));
      INSERT INTO contacts (id, mobile) SELECT 'b' || i, '3467800' || lpad(i::text, 4, '0') FROM generate_series(1, 40) i;
      INSERT INTO group_members VALUES ('g', 'long');
      INSERT INTO group_members SELECT 'big', 'b' || i FROM generate_series(1, 40) i;
      COMMIT;`);
    await waitFor(() => drained(h), 30_000, 'initial sync');
  });
  afterAll(async () => h?.close());

  it('retry re-sends a failed member once the cause is fixed, which nothing else would do', async () => {
    expect(await memberStatus('long')).toBe('failed');
    // The cause: a field limit, raised by the operator. No row changes, so no sync is captured.
    await h.stopDaemon();
    await h.startDaemon({ MAX_FIELD_LENGTH: '255' });
    await new Promise((r) => setTimeout(r, 1_500));
    expect(await memberStatus('long')).toBe('failed');
    const r = await runCli(['retry', '--group', 'g', '--json'], h.env);
    expect(r.code).toBe(0);
    expect(parseJson(r)).toEqual({ members: 1, groups: 0, enqueued: ['g'] });
    await waitFor(
      async () => (await memberStatus('long')) === 'synced',
      30_000,
      'the retried member',
    );
    expect(await remoteMobiles('g')).toEqual(['34677000001']);
  });

  it('approve-deletes lets held deletes through and the daemon makes them', async () => {
    await h.db.query(
      `DELETE FROM group_members WHERE group_id = 'big' AND contact_id IN (SELECT 'b' || i FROM generate_series(1, 30) i)`,
    );
    await waitFor(
      async () =>
        (
          await h.db.query(
            `SELECT 1 FROM sync_holds WHERE group_id = 'big' AND approved_at IS NULL`,
          )
        ).rowCount === 1,
      30_000,
      'a hold',
    );
    await waitFor(() => settled(h), 30_000, 'only held work left');
    expect(await remoteMobiles('big')).toHaveLength(40);
    const r = await runCli(['approve-deletes', 'big'], h.env);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Approved 1 hold for group big/);
    await waitFor(() => drained(h), 30_000, 'approved deletes');
    expect(await remoteMobiles('big')).toHaveLength(10);
  });
});
