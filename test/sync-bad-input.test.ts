import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  compareWithEmulator,
  createHarness,
  emulatorState,
  waitFor,
  type Harness,
} from './support/harness.ts';
import { drained } from './support/sync-helpers.ts';

describe('bad input in the middle of good input', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness({ env: { MAX_FIELD_LENGTH: '100' } });
    await h.startDaemon();
    await h.db.query(
      `INSERT INTO groups (id, name, type, fields) VALUES ('g', 'Mixed', 'mobile', '{mobile,name,city}')`,
    );
    await h.db.query(`BEGIN;
      INSERT INTO contacts (id, mobile, attributes)
        SELECT 'ok' || i, '3460' || lpad(i::text, 7, '0'), jsonb_build_object('name', 'Good ' || i, 'city', 'Town, Province')
        FROM generate_series(1, 300) i;
      INSERT INTO contacts (id, mobile, attributes) VALUES
        ('no-mobile', NULL, '{"name":"Nobody"}'),
        ('too-long', '34611111111', jsonb_build_object('name', repeat('x', 101))),
        ('hostile', '34622222222', '{"name":"Robert\\"); DROP TABLE contacts;--","city":"<script>alert(1)</script>"}'),
        ('dup-a', '34633333333', '{"name":"First"}'),
        ('dup-b', '34633333333', '{"name":"Second"}');
      INSERT INTO group_members SELECT 'g', id FROM contacts;
      COMMIT;`);
    await waitFor(() => drained(h), 30_000, 'sync to drain');
  });
  afterAll(async () => h?.close());

  it('delivers every good member and records each bad one with its reason', async () => {
    const state = await emulatorState(h.emulator.url);
    const mobiles = new Set(state[0]?.contacts.map((c) => c.fields.mobile));
    expect(mobiles.size).toBe(302);
    expect(mobiles.has('34622222222')).toBe(true);
    const failed = await h.db.query<{ contact_id: string; last_error: string }>(
      `SELECT contact_id, last_error FROM sync_member_state WHERE status = 'failed' ORDER BY contact_id`,
    );
    const reasons = Object.fromEntries(failed.rows.map((r) => [r.contact_id, r.last_error]));
    expect(Object.keys(reasons).sort()).toEqual(['dup-b', 'no-mobile', 'too-long']);
    expect(reasons['no-mobile']).toMatch(/^MISSING_MAIN_FIELD: contact has no mobile/);
    expect(reasons['too-long']).toMatch(/^VALUE_TOO_LONG: field "name" is 101 characters/);
    expect(reasons['dup-b']).toMatch(/^DUPLICATE_MAIN_FIELD: contact dup-a/);
  });

  it('keeps a value with "," or ":" that addcontactlist carried, and stores hostile strings verbatim', async () => {
    const state = await emulatorState(h.emulator.url);
    const hostile = state[0]?.contacts.find((c) => c.fields.mobile === '34622222222');
    expect(hostile?.fields.name).toBe('Robert"); DROP TABLE contacts;--');
    expect(hostile?.fields.city).toBe('<script>alert(1)</script>');
    const good = state[0]?.contacts.find((c) => c.fields.mobile === '34600000001');
    expect(good?.fields.city).toBe('Town, Province');
  });

  it('refuses a modify whose new value the field:value form cannot carry, without blocking others', async () => {
    await h.db.query(
      `UPDATE contacts SET attributes = attributes || '{"name":"Smith: John"}' WHERE id = 'ok1'`,
    );
    await h.db.query(
      `UPDATE contacts SET attributes = attributes || '{"name":"Plain"}' WHERE id = 'ok2'`,
    );
    await waitFor(() => drained(h), 30_000, 'sync to drain');
    const row = await h.db.query<{ status: string; last_error: string }>(
      `SELECT status, last_error FROM sync_member_state WHERE contact_id = 'ok1'`,
    );
    expect(row.rows[0]?.status).toBe('failed');
    expect(row.rows[0]?.last_error).toMatch(/^UNENCODABLE_VALUE: field "name"/);
    const state = await emulatorState(h.emulator.url);
    expect(state[0]?.contacts.find((c) => c.fields.mobile === '34600000002')?.fields.name).toBe(
      'Plain',
    );
    expect(state[0]?.contacts.find((c) => c.fields.mobile === '34600000001')?.fields.name).toBe(
      'Good 1',
    );
  });

  it('recovers a failed member once its data is fixed', async () => {
    await h.db.query(`UPDATE contacts SET mobile = '34644444444' WHERE id = 'no-mobile'`);
    await waitFor(() => drained(h), 30_000, 'sync to drain');
    const row = await h.db.query<{ status: string }>(
      `SELECT status FROM sync_member_state WHERE contact_id = 'no-mobile'`,
    );
    expect(row.rows[0]?.status).toBe('synced');
    const problems = await compareWithEmulator(h);
    // Only the three still-bad members differ.
    expect(problems.filter((p) => !/member (dup-b|too-long|ok1) /.test(p))).toEqual([]);
    expect(problems.length).toBeGreaterThan(0);
  });

  it('syncs a member that takes over the mobile of one leaving the group in the same change', async () => {
    await h.db.query(`BEGIN;
      DELETE FROM group_members WHERE group_id = 'g' AND contact_id = 'ok3';
      INSERT INTO contacts (id, mobile, attributes) VALUES ('heir', '34600000003', '{"name":"Heir"}');
      INSERT INTO group_members VALUES ('g', 'heir');
      COMMIT;`);
    await waitFor(() => drained(h), 30_000, 'sync to drain');
    const row = await h.db.query<{ status: string; last_error: string | null }>(
      `SELECT status, last_error FROM sync_member_state WHERE contact_id = 'heir'`,
    );
    expect(row.rows[0]).toEqual({ status: 'synced', last_error: null });
    const state = await emulatorState(h.emulator.url);
    const same = state[0]?.contacts.filter((c) => c.fields.mobile === '34600000003');
    expect(same?.map((c) => c.fields.name)).toEqual(['Heir']);
  });
});
