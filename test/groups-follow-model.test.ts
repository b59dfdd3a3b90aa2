import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createHarness,
  emulatorState,
  waitFor,
  type EmulatorGroup,
  type Harness,
} from './support/harness.ts';
import { drained } from './support/sync-helpers.ts';

describe('remote groups follow the groups table', () => {
  let h: Harness;
  const remote = async (id: string): Promise<EmulatorGroup | undefined> => {
    const row = await h.db.query<{ afilnet_id: string }>(
      'SELECT afilnet_id FROM groups WHERE id = $1',
      [id],
    );
    return (await emulatorState(h.emulator.url)).find(
      (g) => String(g.idgroup) === row.rows[0]?.afilnet_id,
    );
  };
  const groupState = async (id: string) =>
    (
      await h.db.query<{ status: string; last_error: string | null }>(
        'SELECT status, last_error FROM sync_group_state WHERE group_id = $1',
        [id],
      )
    ).rows[0];

  beforeAll(async () => {
    h = await createHarness();
    await h.startDaemon();
    await h.db.query(`BEGIN;
      INSERT INTO groups (id, name, type, fields) VALUES ('g', 'Model', 'mobile', '{mobile,name}');
      INSERT INTO contacts (id, mobile, attributes) VALUES
        ('a', '34611000001', '{"name":"Ana","city":"Sevilla"}'), ('b', '34611000002', '{"name":"Bea"}');
      INSERT INTO group_members VALUES ('g', 'a'), ('g', 'b');
      COMMIT;`);
    await waitFor(() => drained(h), 30_000, 'initial sync');
  });
  afterAll(async () => h?.close());

  it('adds a column when a field is added, and fills it for members that have a value', async () => {
    await h.db.query(`UPDATE groups SET fields = '{mobile,name,city}' WHERE id = 'g'`);
    await waitFor(() => drained(h), 30_000, 'column add');
    const g = await remote('g');
    expect(g?.fields).toEqual(['mobile', 'name', 'city']);
    expect(g?.contacts.find((c) => c.fields.mobile === '34611000001')?.fields.city).toBe('Sevilla');
    expect(g?.contacts.find((c) => c.fields.mobile === '34611000002')?.fields.city ?? '').toBe('');
  });

  it('deletes a column when a field is removed', async () => {
    await h.db.query(`UPDATE groups SET fields = '{mobile,city}' WHERE id = 'g'`);
    await waitFor(() => drained(h), 30_000, 'column delete');
    expect((await remote('g'))?.fields).toEqual(['mobile', 'city']);
  });

  it('refuses to remove the main field, recording why, and keeps the remote column', async () => {
    await h.db.query(`UPDATE groups SET fields = '{city}' WHERE id = 'g'`);
    await waitFor(async () => (await groupState('g'))?.status === 'warning', 30_000, 'warning');
    expect((await groupState('g'))?.last_error).toMatch(/must include the main field "mobile"/);
    expect((await remote('g'))?.fields).toContain('mobile');
    await h.db.query(`UPDATE groups SET fields = '{mobile,city}' WHERE id = 'g'`);
    await waitFor(async () => (await groupState('g'))?.status === 'ok', 30_000, 'ok again');
  });

  it('assigns the country, and records COUNTRY_NOT_FOUND on the group without retrying forever', async () => {
    await h.db.query(`UPDATE groups SET country_iso3 = 'ESP' WHERE id = 'g'`);
    await waitFor(() => drained(h), 30_000, 'country');
    expect((await remote('g'))?.country).toBe('esp');
    const before = (await (await fetch(`${h.emulator.url}/__emulator/calls`)).json()) as {
      byMethod: Record<string, number>;
    };
    await h.db.query(`UPDATE groups SET country_iso3 = 'XXX' WHERE id = 'g'`);
    await waitFor(
      async () => /COUNTRY_NOT_FOUND/.test((await groupState('g'))?.last_error ?? ''),
      30_000,
      'recorded',
    );
    await new Promise((r) => setTimeout(r, 4_000));
    const after = (await (await fetch(`${h.emulator.url}/__emulator/calls`)).json()) as {
      byMethod: Record<string, number>;
    };
    expect(
      (after.byMethod.assigncountrytogroup ?? 0) - (before.byMethod.assigncountrytogroup ?? 0),
    ).toBe(1);
  });

  it('refuses a change of type with a recorded reason, deleting nothing', async () => {
    await h.db.query(`UPDATE groups SET type = 'email', fields = '{email}' WHERE id = 'g'`);
    await waitFor(
      async () => (await groupState('g'))?.status === 'failed',
      30_000,
      'type change refused',
    );
    expect((await groupState('g'))?.last_error).toMatch(/type changed from mobile to email/);
    const g = await remote('g');
    expect(g?.type).toBe('mobile');
    expect(g?.contacts).toHaveLength(2);
    await h.db.query(`UPDATE groups SET type = 'mobile', fields = '{mobile,city}' WHERE id = 'g'`);
    await waitFor(async () => (await groupState('g'))?.status === 'ok', 30_000, 'back to ok');
  });

  it('records a local rename without recreating the remote group', async () => {
    await h.db.query(`UPDATE groups SET name = 'Renamed' WHERE id = 'g'`);
    await waitFor(
      async () => /Afilnet has no rename/.test((await groupState('g'))?.last_error ?? ''),
      30_000,
      'rename noted',
    );
    expect((await remote('g'))?.name).toBe('Model');
  });

  it('deletes the remote group when its row is deleted', async () => {
    const id = (await remote('g'))?.idgroup;
    await h.db.query(`DELETE FROM groups WHERE id = 'g'`);
    await waitFor(() => drained(h), 30_000, 'group delete');
    expect((await emulatorState(h.emulator.url)).some((g) => g.idgroup === id)).toBe(false);
  });

  it('marks a group failed with a clear message when creategroup returns no id', async () => {
    const strict = await createHarness({ strictDocs: true });
    try {
      await strict.startDaemon();
      await strict.db.query(
        `INSERT INTO groups (id, name, type, fields) VALUES ('s', 'Strict', 'email', '{email}')`,
      );
      await waitFor(
        async () => {
          const r = await strict.db.query<{ status: string }>(
            `SELECT status FROM sync_group_state WHERE group_id = 's'`,
          );
          return r.rows[0]?.status === 'failed';
        },
        30_000,
        'failed',
      );
      const r = await strict.db.query<{ last_error: string }>(
        `SELECT last_error FROM sync_group_state WHERE group_id = 's'`,
      );
      expect(r.rows[0]?.last_error).toMatch(/find the group in Afilnet and set groups.afilnet_id/);
      const calls = (await (await fetch(`${strict.emulator.url}/__emulator/calls`)).json()) as {
        byMethod: Record<string, number>;
      };
      expect(calls.byMethod.creategroup).toBe(1);
    } finally {
      await strict.close();
    }
  });
});
