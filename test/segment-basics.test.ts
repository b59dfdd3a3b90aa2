import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { statusReport } from '../src/operator/status-report.ts';
import { runCli } from './support/run-cli.ts';
import {
  compareWithEmulator,
  createHarness,
  emulatorCalls,
  emulatorState,
  waitFor,
  type Harness,
} from './support/harness.ts';
import { drained } from './support/sync-helpers.ts';

/** Outbox, marks and dirty groups empty, and every segment evaluated as it now reads. */
async function segmentsSettled(h: Harness): Promise<boolean> {
  const res = await h.db.query<{ n: string }>(
    `SELECT count(*) AS n FROM groups g LEFT JOIN sync_segment_state s ON s.group_id = g.id
     WHERE g.segment IS NOT NULL AND s.expression IS DISTINCT FROM g.segment AND s.error IS NULL`,
  );
  return Number(res.rows[0]?.n) === 0 && (await drained(h));
}

async function callsDuring(h: Harness, work: () => Promise<void>): Promise<Record<string, number>> {
  const before = (await emulatorCalls(h.emulator.url)).byMethod;
  await work();
  await waitFor(() => segmentsSettled(h), 30_000, 'segments to settle and the sync to drain');
  const after = (await emulatorCalls(h.emulator.url)).byMethod;
  const diff: Record<string, number> = {};
  for (const [m, n] of Object.entries(after)) {
    const d = n - (before[m] ?? 0);
    if (d > 0) diff[m] = d;
  }
  return diff;
}

describe('groups defined by a segment', () => {
  let h: Harness;
  const members = async (groupId: string): Promise<string[]> =>
    (
      await h.db.query<{ contact_id: string }>(
        'SELECT contact_id FROM group_members WHERE group_id = $1 ORDER BY contact_id',
        [groupId],
      )
    ).rows.map((r) => r.contact_id);
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

  beforeAll(async () => {
    h = await createHarness({ env: { SEGMENT_REFRESH_MS: '500', SWEEP_AFTER_MS: '1000' } });
    await h.db.query(`INSERT INTO contacts (id, mobile, attributes) VALUES
      ('ana', '34600000001', '{"name": "Ana", "city": "Madrid", "score": "60"}'),
      ('bea', '34600000002', '{"name": "Bea", "city": "Madrid", "score": "40"}'),
      ('cai', '34600000003', '{"name": "Cai", "city": "Lyon", "score": "90"}')`);
    await h.startDaemon();
  });
  afterAll(async () => h?.close());

  it('creates the group with exactly the contacts the segment matches', async () => {
    const calls = await callsDuring(h, async () => {
      await h.db.query(
        `INSERT INTO groups (id, name, type, fields, segment) VALUES ('madrid', 'Madrid fans', 'mobile',
           '{mobile,name}', $1)`,
        [`c.attributes->>'city' = 'Madrid' and (c.attributes->>'score')::int > 50`],
      );
    });
    expect(calls).toEqual({ creategroup: 1, addcontactlist: 1 });
    expect(await members('madrid')).toEqual(['ana']);
    expect(await remoteMobiles('madrid')).toEqual(['34600000001']);
  });

  it('adds a contact whose update makes it match, and deletes one that stops matching', async () => {
    const entering = await callsDuring(h, async () => {
      await h.db.query(
        `UPDATE contacts SET attributes = attributes || '{"score": "75"}' WHERE id = 'bea'`,
      );
    });
    expect(entering).toEqual({ addcontactlist: 1 });
    expect(await remoteMobiles('madrid')).toEqual(['34600000001', '34600000002']);

    const leaving = await callsDuring(h, async () => {
      await h.db.query(
        `UPDATE contacts SET attributes = attributes || '{"city": "Sevilla"}' WHERE id = 'ana'`,
      );
    });
    expect(leaving).toEqual({ deletecontact: 1 });
    expect(await members('madrid')).toEqual(['bea']);
    expect(await remoteMobiles('madrid')).toEqual(['34600000002']);
  });

  it('adds an inserted contact that matches, and costs nothing for one that does not', async () => {
    const calls = await callsDuring(h, async () => {
      await h.db.query(`INSERT INTO contacts (id, mobile, attributes) VALUES
        ('dan', '34600000004', '{"name": "Dan", "city": "Madrid", "score": "99"}'),
        ('eva', '34600000005', '{"name": "Eva", "city": "Bilbao", "score": "99"}')`);
    });
    expect(calls).toEqual({ addcontactlist: 1 });
    expect(await members('madrid')).toEqual(['bea', 'dan']);
  });

  it('re-evaluates the whole group as one diff when the segment is edited', async () => {
    const calls = await callsDuring(h, async () => {
      await h.db.query(`UPDATE groups SET segment = $1 WHERE id = 'madrid'`, [
        `(c.attributes->>'score')::int >= 90`,
      ]);
    });
    // bea leaves (75), dan stays (99), cai and eva enter.
    expect(calls).toEqual({ addcontactlist: 1, deletecontact: 1 });
    expect(await members('madrid')).toEqual(['cai', 'dan', 'eva']);
    expect(await compareWithEmulator(h)).toEqual([]);
  });

  it('refuses membership rows written for a segment group, with a clear error', async () => {
    await expect(
      h.db.query(`INSERT INTO group_members (group_id, contact_id) VALUES ('madrid', 'ana')`),
    ).rejects.toThrow(/group "madrid" is defined by its segment/);
    await expect(
      h.db.query(`DELETE FROM group_members WHERE group_id = 'madrid' AND contact_id = 'cai'`),
    ).rejects.toThrow(/group "madrid" is defined by its segment/);
    expect(await members('madrid')).toEqual(['cai', 'dan', 'eva']);
  });

  it('lets a deleted contact leave its segment groups (the cascade passes)', async () => {
    const calls = await callsDuring(h, async () => {
      await h.db.query(`DELETE FROM contacts WHERE id = 'eva'`);
    });
    expect(calls).toEqual({ deletecontact: 1 });
    expect(await members('madrid')).toEqual(['cai', 'dan']);
  });

  describe('refuses a bad segment when the row is written, with the database message', () => {
    const cases: [string, RegExp][] = [
      ['c.nope = 1', /not a valid filter: column c.nope does not exist/],
      ['c.mobile =', /not a valid filter: syntax error at or near "\)"/],
      ['c.mobile', /not a valid filter: argument of WHERE must be type boolean, not type text/],
      [`c.mobile > 3`, /not a valid filter: operator does not exist: text > integer/],
      ['random() > 0.5', /may not call the volatile function random\(\)/],
      [`nextval('sync_dirty_seq') > 0`, /may not call the volatile function nextval/],
      ['exists (select 1 from sync_member_state)', /may not read sync_member_state/],
      ['true; delete from contacts', /one expression: no ";"/],
      ['true) or (true', /closes a parenthesis it did not open/],
      ['true -- comment', /may not contain comments/],
    ];
    for (const [segment, message] of cases) {
      it(`refuses ${segment}`, async () => {
        await expect(
          h.db.query(
            `INSERT INTO groups (id, name, type, fields, segment) VALUES ('bad', 'Bad', 'mobile', '{mobile}', $1)`,
            [segment],
          ),
        ).rejects.toThrow(message);
        await expect(
          h.db.query(`UPDATE groups SET segment = $1 WHERE id = 'madrid'`, [segment]),
        ).rejects.toThrow(message);
      });
    }
    it('left no group behind', async () => {
      const rows = await h.db.query(`SELECT id FROM groups WHERE id = 'bad'`);
      expect(rows.rowCount).toBe(0);
    });
  });

  it('records a filter failing at run time on the group, shown by status, and keeps syncing', async () => {
    await h.db.query(
      `UPDATE contacts SET attributes = attributes || '{"score": "n/a"}' WHERE id = 'bea'`,
    );
    await waitFor(
      async () => {
        const r = await h.db.query<{ error: string | null }>(
          `SELECT error FROM sync_segment_state WHERE group_id = 'madrid'`,
        );
        return r.rows[0]?.error != null;
      },
      10_000,
      'the failure to be recorded',
    );
    const status = await statusReport({ pool: h.db });
    const madrid = status.groups.find((g) => g.id === 'madrid');
    expect(madrid?.segment?.error).toBe('invalid input syntax for type integer: "n/a"');
    expect(madrid?.segment?.size).toBe(2);
    expect(madrid?.segment?.lastEvaluatedAt).not.toBeNull();
    // The status command says it in words too.
    const text = await runCli(['status'], {
      DATABASE_URL: h.env.DATABASE_URL as string,
      REDIS_URL: h.env.REDIS_URL as string,
      QUEUE_PREFIX: h.env.QUEUE_PREFIX as string,
    });
    expect(text.stdout).toMatch(
      /madrid: segment, 2 members, last evaluated whole .+; failing: invalid input syntax for type integer: "n\/a"/,
    );
    // Fixed data is evaluated again: the error stays until the next whole evaluation.
    const calls = await callsDuring(h, async () => {
      await h.db.query(
        `UPDATE contacts SET attributes = attributes || '{"score": "95"}' WHERE id = 'bea'`,
      );
    });
    expect(calls).toEqual({ addcontactlist: 1 });
    expect(await members('madrid')).toEqual(['bea', 'cai', 'dan']);
    // The failed statement skipped its whole batch: the group is evaluated whole again, which
    // succeeds now and clears the error.
    await waitFor(
      async () =>
        (await statusReport({ pool: h.db })).groups.some(
          (g) => g.id === 'madrid' && g.segment?.error === null,
        ),
      10_000,
      'the whole re-evaluation',
    );
  });

  it('re-evaluates a segment reading another table on the SEGMENT_REFRESH_MS schedule', async () => {
    await h.db.query(`CREATE TABLE vip_list (contact_id text PRIMARY KEY)`);
    await h.db.query(`GRANT SELECT ON vip_list TO afilnet_segment`);
    await callsDuring(h, async () => {
      await h.db.query(
        `INSERT INTO groups (id, name, type, fields, segment) VALUES ('vip', 'VIP', 'mobile', '{mobile}',
           'exists (select 1 from vip_list v where v.contact_id = c.id)')`,
      );
    });
    expect(await members('vip')).toEqual([]);
    const state = await h.db.query<{ time_dependent: boolean }>(
      `SELECT time_dependent FROM sync_segment_state WHERE group_id = 'vip'`,
    );
    expect(state.rows[0]?.time_dependent).toBe(true);
    await h.db.query(`INSERT INTO vip_list VALUES ('ana'), ('cai')`);
    await waitFor(async () => (await remoteMobiles('vip')).length === 2, 10_000, 'the refresh');
    expect(await members('vip')).toEqual(['ana', 'cai']);
    expect(await remoteMobiles('vip')).toEqual(['34600000001', '34600000003']);
  });

  it('re-evaluates a segment using now() on schedule, and leaves a contact-only one alone', async () => {
    await callsDuring(h, async () => {
      await h.db.query(
        `INSERT INTO groups (id, name, type, fields, segment) VALUES ('future', 'Future', 'mobile',
           '{mobile}', 'c.created_at > now() + interval ''1 day''')`,
      );
    });
    const evaluatedAt = async (id: string) =>
      (
        await h.db.query<{ evaluated_at: Date; time_dependent: boolean }>(
          'SELECT evaluated_at, time_dependent FROM sync_segment_state WHERE group_id = $1',
          [id],
        )
      ).rows[0];
    const future = await evaluatedAt('future');
    const madrid = await evaluatedAt('madrid');
    expect(future?.time_dependent).toBe(true);
    expect(madrid?.time_dependent).toBe(false);
    await new Promise((r) => setTimeout(r, 1_500));
    expect((await evaluatedAt('future'))?.evaluated_at.getTime()).toBeGreaterThan(
      future?.evaluated_at.getTime() ?? Infinity,
    );
    expect((await evaluatedAt('madrid'))?.evaluated_at.getTime()).toBe(
      madrid?.evaluated_at.getTime(),
    );
    expect(await members('future')).toEqual([]);
  });

  it('holds a filter edit that empties a large group (the mass-deletion guard)', async () => {
    await callsDuring(h, async () => {
      await h.db.query(`INSERT INTO contacts (id, mobile, attributes)
        SELECT 'bulk' || i, '3461' || lpad(i::text, 7, '0'), '{"tier": "gold"}' FROM generate_series(1, 300) i`);
      await h.db.query(
        `INSERT INTO groups (id, name, type, fields, segment) VALUES ('gold', 'Gold', 'mobile',
        '{mobile}', $1)`,
        [`c.attributes->>'tier' = 'gold'`],
      );
    });
    expect(await remoteMobiles('gold')).toHaveLength(300);
    const before = (await emulatorCalls(h.emulator.url)).byMethod.deletecontact ?? 0;
    await h.db.query(`UPDATE groups SET segment = $1 WHERE id = 'gold'`, [
      `c.attributes->>'tier' = 'platinum'`,
    ]);
    await waitFor(
      async () => {
        const r = await h.db.query(
          `SELECT 1 FROM sync_holds WHERE group_id = 'gold' AND approved_at IS NULL`,
        );
        return r.rowCount === 1;
      },
      30_000,
      'the hold',
    );
    expect(await members('gold')).toEqual([]);
    expect((await emulatorCalls(h.emulator.url)).byMethod.deletecontact ?? 0).toBe(before);
    expect(await remoteMobiles('gold')).toHaveLength(300);
  });
});
