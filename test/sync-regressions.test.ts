import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { statusReport } from '../src/operator/status-report.ts';
import {
  compareWithEmulator,
  createHarness,
  createRemoteGroup,
  emulatorCalls,
  emulatorState,
  setFaults,
  waitFor,
  type Harness,
} from './support/harness.ts';
import { drained } from './support/sync-helpers.ts';

/**
 * Regressions for the review's known defects (F1 to F13), each through the public contract only: plain SQL
 * writes, the daemon, the emulator's state and counters.
 */
const failedMembers = async (h: Harness) =>
  (
    await h.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM sync_member_state WHERE status = 'failed'`,
    )
  ).rows[0]?.n;

async function seedGroup(h: Harness, id: string, members: number, strictDocs: boolean) {
  if (strictDocs) {
    const remoteId = await createRemoteGroup(h.emulator.url, id);
    await h.db.query(
      `INSERT INTO groups (id, name, type, fields, afilnet_id) VALUES ($1, $1, 'mobile', '{mobile,name}', $2)`,
      [id, remoteId],
    );
  } else {
    await h.db.query(
      `INSERT INTO groups (id, name, type, fields) VALUES ($1, $1, 'mobile', '{mobile,name}')`,
      [id],
    );
  }
  await h.db.query(
    `INSERT INTO contacts (id, mobile, attributes)
     SELECT $1 || '-' || i, '6' || lpad((hashtext($1) & 65535)::text, 5, '0') || lpad(i::text, 5, '0'),
            jsonb_build_object('name', 'n' || i)
     FROM generate_series(1, $2::int) i`,
    [id, members],
  );
  await h.db.query(
    `INSERT INTO group_members SELECT $1, $1 || '-' || i FROM generate_series(1, $2::int) i`,
    [id, members],
  );
}

for (const strictDocs of [false, true]) {
  const mode = strictDocs ? ' (strict-docs)' : '';

  describe(`main values handed between members${mode} (F5)`, () => {
    let h: Harness;
    beforeAll(async () => {
      h = await createHarness({ strictDocs });
      await seedGroup(h, 'hand', 30, strictDocs);
      await h.startDaemon();
      await waitFor(() => drained(h), 30_000, 'initial sync');
    });
    afterAll(async () => h?.close());

    it('moves a number to another member in one transaction without failing anyone', async () => {
      for (let i = 1; i <= 10; i++) {
        // B (hand-2i) takes a fresh number; A (hand-2i-1) takes B's old one, in one transaction.
        await h.db.query(
          `WITH b AS (SELECT mobile FROM contacts WHERE id = $2)
           UPDATE contacts SET mobile = CASE id WHEN $2 THEN '69' || lpad($3::text, 7, '0') ELSE (SELECT mobile FROM b) END
           WHERE id IN ($1, $2)`,
          [`hand-${2 * i - 1}`, `hand-${2 * i}`, i],
        );
      }
      await waitFor(() => drained(h), 30_000, 'hand-overs synced');
      expect(await compareWithEmulator(h)).toEqual([]);
      expect(await failedMembers(h)).toBe(0);
    });

    it('hands a number over from a member whose number is emptied: its stale copy goes', async () => {
      await h.db.query(
        `UPDATE contacts SET mobile = CASE id WHEN 'hand-24' THEN NULL ELSE (SELECT mobile FROM contacts WHERE id = 'hand-24') END
         WHERE id IN ('hand-23', 'hand-24')`,
      );
      await waitFor(() => drained(h), 30_000, 'hand-over synced');
      const failed = await h.db.query<{ contact_id: string; last_error: string }>(
        `SELECT contact_id, last_error FROM sync_member_state WHERE status = 'failed'`,
      );
      expect(failed.rows).toEqual([
        {
          contact_id: 'hand-24',
          last_error: expect.stringMatching(/^MISSING_MAIN_FIELD/) as string,
        },
      ]);
      // The emptied member is not remote (its old number now belongs to hand-23 alone).
      await h.db.query(`DELETE FROM group_members WHERE contact_id = 'hand-24'`);
      await waitFor(() => drained(h), 30_000, 'removal synced');
      expect(await compareWithEmulator(h)).toEqual([]);
    });

    it('swaps two members’ numbers in one transaction', async () => {
      await h.db.query(
        `UPDATE contacts c SET mobile = o.mobile FROM contacts o
         WHERE (c.id, o.id) IN (('hand-21', 'hand-22'), ('hand-22', 'hand-21'))`,
      );
      await waitFor(() => drained(h), 30_000, 'swap synced');
      expect(await compareWithEmulator(h)).toEqual([]);
      expect(await failedMembers(h)).toBe(0);
    });
  });

  describe(`a rotated password${mode} (F11)`, () => {
    let h: Harness;
    beforeAll(async () => {
      h = await createHarness({
        strictDocs,
        env: { ACCOUNT_PROBE_MS: '500', AFILNET_BATCH_SIZE: '50', ADMIN_TOKEN: 'test-admin-token' },
      });
      await seedGroup(h, 'pw', 10, strictDocs);
      await h.startDaemon();
      await waitFor(() => drained(h), 30_000, 'initial sync');
    });
    afterAll(async () => h?.close());

    it('pauses the account instead of failing members, and resumes without a retry', async () => {
      await setFaults(h.emulator.url, { accountError: 'INCORRECT_USER_PASSWORD' } as never);
      const before = (await emulatorCalls(h.emulator.url)).total;
      await h.db.query(
        `INSERT INTO contacts (id, mobile, attributes)
         SELECT 'pw-n' || i, '67' || lpad(i::text, 7, '0'), '{"name":"new"}' FROM generate_series(1, 500) i`,
      );
      await h.db.query(
        `INSERT INTO group_members SELECT 'pw', 'pw-n' || i FROM generate_series(1, 500) i`,
      );
      await new Promise((r) => setTimeout(r, 4_000));
      const during = (await emulatorCalls(h.emulator.url)).total - before;
      // One refused batch, then a probe per 500 ms: nothing like a split of every batch.
      expect(during).toBeLessThan(30);
      expect(await failedMembers(h)).toBe(0);
      // Readiness, status and a metric say why.
      const admin = h.daemon?.adminUrl as string;
      expect((await fetch(`${admin}/readyz`)).status).toBe(503);
      const metrics = await (
        await fetch(`${admin}/metrics`, { headers: { authorization: 'Bearer test-admin-token' } })
      ).text();
      expect(metrics).toMatch(/^afilnet_sync_account_paused 1$/m);
      const report = await statusReport({
        pool: h.db,
        redis: h.daemon?.redis ?? null,
        prefix: h.env.QUEUE_PREFIX as string,
      });
      expect(report.accountPause?.reason).toMatch(/INCORRECT_USER_PASSWORD/);
      await setFaults(h.emulator.url, { accountError: null } as never);
      await waitFor(() => drained(h), 30_000, 'sync after the password is fixed');
      expect(await compareWithEmulator(h)).toEqual([]);
      expect(await failedMembers(h)).toBe(0);
      // Ready again once the probe has seen the account answer (a refusal answered just before
      // the fix may pause it once more, for one probe interval).
      await waitFor(async () => (await fetch(`${admin}/readyz`)).status === 200, 5_000, 'ready');
    });
  });

  describe(`calls applied, then answered HTTP 5xx${mode} (F7)`, () => {
    let h: Harness;
    beforeAll(async () => {
      h = await createHarness({
        strictDocs,
        env: { AFILNET_BATCH_SIZE: '20', SWEEP_AFTER_MS: '1500' },
      });
      await seedGroup(h, 'ae', 0, strictDocs);
      await h.startDaemon();
      await waitFor(() => drained(h), 30_000, 'group ready');
    });
    afterAll(async () => h?.close());

    it('never duplicates a contact an answer-less add already made', async () => {
      await setFaults(h.emulator.url, { appliedThenErrorRate: 0.3 });
      await h.db.query(
        `INSERT INTO contacts (id, mobile, attributes)
         SELECT 'ae-' || i, '68' || lpad(i::text, 7, '0'), '{"name":"a"}' FROM generate_series(1, 200) i`,
      );
      await h.db.query(
        `INSERT INTO group_members SELECT 'ae', 'ae-' || i FROM generate_series(1, 200) i`,
      );
      await h.db.query(
        `UPDATE contacts SET attributes = '{"name":"b"}' WHERE id LIKE 'ae-%' AND right(id, 1) = '7'`,
      );
      await waitFor(
        async () => (await compareWithEmulator(h)).length === 0 && (await drained(h)),
        90_000,
        'convergence',
      );
      await setFaults(h.emulator.url, { appliedThenErrorRate: 0 });
      expect(await compareWithEmulator(h)).toEqual([]);
      expect(await failedMembers(h)).toBe(0);
    });
  });
}

describe('creategroup answered HTTP 5xx after it was applied (F7)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness({ env: { SWEEP_AFTER_MS: '1000' } });
    await h.startDaemon();
  });
  afterAll(async () => h?.close());
  afterEach(async () => setFaults(h.emulator.url, { appliedThenErrorRate: 0 }));

  it('sends it at most twice, records the possible orphan, then stops for an operator', async () => {
    await setFaults(h.emulator.url, { appliedThenErrorRate: 1 });
    await h.db.query(
      `INSERT INTO groups (id, name, type, fields) VALUES ('cg', 'Orphan test', 'mobile', '{mobile}')`,
    );
    await waitFor(
      async () =>
        (
          await h.db.query(
            `SELECT 1 FROM sync_group_state WHERE group_id = 'cg' AND status = 'failed'`,
          )
        ).rowCount === 1,
      30_000,
      'the group to stop',
    );
    await new Promise((r) => setTimeout(r, 3_000));
    const groups = (await emulatorState(h.emulator.url)).filter((g) => g.name === 'Orphan test');
    expect(groups).toHaveLength(2);
    const state = await h.db.query<{ orphan_note: string; last_error: string }>(
      `SELECT orphan_note, last_error FROM sync_group_state WHERE group_id = 'cg'`,
    );
    expect(state.rows[0]?.orphan_note).toMatch(/may have made a remote group "Orphan test"/);
    expect(state.rows[0]?.last_error).toMatch(/set groups\.afilnet_id/);
  });

  it('heals by itself when the second try answers, leaving one possible orphan reported', async () => {
    await setFaults(h.emulator.url, { appliedThenErrorRate: 0 });
    await fetch(`${h.emulator.url}/__emulator/reset`, { method: 'POST' });
    // One applied-then-5xx answer, then normal answers: the first group is the orphan.
    await setFaults(h.emulator.url, { appliedThenErrorRate: 1 });
    await h.db.query(
      `INSERT INTO groups (id, name, type, fields) VALUES ('cg2', 'Heals', 'mobile', '{mobile}')`,
    );
    await waitFor(
      async () =>
        (
          await h.db.query(
            `SELECT 1 FROM sync_group_state WHERE group_id = 'cg2' AND orphan_note IS NOT NULL`,
          )
        ).rowCount === 1,
      20_000,
      'the first unknown outcome',
    );
    await setFaults(h.emulator.url, { appliedThenErrorRate: 0 });
    await waitFor(
      async () =>
        (await h.db.query(`SELECT 1 FROM groups WHERE id = 'cg2' AND afilnet_id IS NOT NULL`))
          .rowCount === 1,
      30_000,
      'the group to be created',
    );
    const named = (await emulatorState(h.emulator.url)).filter((g) => g.name === 'Heals');
    expect(named).toHaveLength(2);
    const report = await statusReport({ pool: h.db });
    expect(report.groups.find((g) => g.id === 'cg2')?.orphanNote).toMatch(/"Heals"/);
  });
});

describe('a group row deleted and inserted again while deletegroup is in flight (F4)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness();
    await seedGroup(h, 're', 20, false);
    await h.startDaemon();
    await waitFor(() => drained(h), 30_000, 'initial sync');
  });
  afterAll(async () => h?.close());

  it('creates the group again with every member', async () => {
    await setFaults(h.emulator.url, { latencyMs: 1_500 });
    await h.db.query(`DELETE FROM groups WHERE id = 're'`);
    await waitFor(
      async () =>
        (await fetch(`${h.emulator.url}/__emulator/requests`).then((r) => r.text())).includes(
          'deletegroup',
        ),
      10_000,
      'deletegroup sent',
    );
    await h.db.query(
      `INSERT INTO groups (id, name, type, fields) VALUES ('re', 're', 'mobile', '{mobile,name}')`,
    );
    await h.db.query(
      `INSERT INTO group_members SELECT 're', 're-' || i FROM generate_series(1, 20) i`,
    );
    await setFaults(h.emulator.url, { latencyMs: 0 });
    await waitFor(
      async () => (await drained(h)) && (await compareWithEmulator(h)).length === 0,
      30_000,
      'recreated',
    );
    expect(await compareWithEmulator(h)).toEqual([]);
  });
});

describe('remote groups that cannot be read whole (F10)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness({ strictDocs: true, env: { SWEEP_AFTER_MS: '1000' } });
    await seedGroup(h, 'odd', 5, true);
    await seedGroup(h, 'lost', 5, true);
    await seedGroup(h, 'fine', 5, true);
    await h.startDaemon();
    await waitFor(() => drained(h), 30_000, 'initial sync');
  });
  afterAll(async () => h?.close());

  const remoteOf = async (name: string) =>
    (await emulatorState(h.emulator.url)).find((g) => g.name === name);

  it('tolerates remote values of other JSON types and unreadable contacts', async () => {
    const odd = await remoteOf('odd');
    for (const name of [true, 42, null, { nested: 1 }]) {
      await fetch(`${h.emulator.url}/__emulator/contacts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          account: 'demo',
          idgroup: odd?.idgroup,
          fields: { mobile: `5${JSON.stringify(name).length}${Math.random()}`.slice(0, 9), name },
        }),
      });
    }
    // Strict-docs adds answer no ids: a modify needs a read of the whole group.
    await h.db.query(`UPDATE contacts SET attributes = '{"name":"changed"}' WHERE id = 'odd-1'`);
    await waitFor(
      async () => {
        const g = await remoteOf('odd');
        return g?.contacts.some((c) => c.fields.name === 'changed') ?? false;
      },
      20_000,
      'the modify to arrive',
    );
    const state = await h.db.query<{ status: string }>(
      `SELECT status FROM sync_group_state WHERE group_id = 'odd'`,
    );
    expect(state.rows[0]?.status).toBe('ok');
  });

  it('fails only the group Afilnet no longer gives access to, with a reason', async () => {
    const lost = await remoteOf('lost');
    await fetch(`${h.emulator.url}/api/http/`, {
      method: 'POST',
      body: new URLSearchParams({
        class: 'group',
        method: 'deletegroup',
        user: 'demo',
        password: 'demo',
        idgroup: String(lost?.idgroup),
      }),
    });
    await h.db.query(
      `UPDATE contacts SET attributes = '{"name":"later"}' WHERE id IN ('lost-1', 'fine-1')`,
    );
    await waitFor(
      async () =>
        (
          await h.db.query(
            `SELECT 1 FROM sync_group_state WHERE group_id = 'lost' AND status = 'failed'`,
          )
        ).rowCount === 1,
      20_000,
      'the lost group to fail',
    );
    const lostState = await h.db.query<{ last_error: string }>(
      `SELECT last_error FROM sync_group_state WHERE group_id = 'lost'`,
    );
    expect(lostState.rows[0]?.last_error).toMatch(/NOT_ACCESS_TO_GROUP.*groups\.afilnet_id/);
    await waitFor(
      async () => {
        const g = await remoteOf('fine');
        return g?.contacts.some((c) => c.fields.name === 'later') ?? false;
      },
      20_000,
      'the other group to sync',
    );
    expect(await failedMembers(h)).toBe(0);
  });
});

describe('members waiting for a main value (F13)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness({ env: { DELETE_GUARD_PERCENT: '10', DELETE_GUARD_MIN: '100000' } });
    await seedGroup(h, 'wait', 2_100, false);
    await h.startDaemon();
    await waitFor(() => drained(h), 60_000, 'initial sync');
  });
  afterAll(async () => h?.close());

  it('lets newer changes of the group through while they wait', async () => {
    // 2,050 members leave (held by the guard) and 2,050 new contacts take their numbers: every
    // newcomer waits for a departing holder, and they are the oldest marks of the group.
    await h.db.query(
      `WITH gone AS (DELETE FROM group_members WHERE group_id = 'wait'
                     AND contact_id IN (SELECT 'wait-' || i FROM generate_series(1, 2050) i) RETURNING contact_id)
       SELECT count(*) FROM gone`,
    );
    await h.db.query(
      `INSERT INTO contacts (id, mobile, attributes)
       SELECT 'new-' || i, (SELECT mobile FROM contacts WHERE id = 'wait-' || i), '{"name":"new"}'
       FROM generate_series(1, 2050) i`,
    );
    await h.db.query(
      `INSERT INTO group_members SELECT 'wait', 'new-' || i FROM generate_series(1, 2050) i`,
    );
    await waitFor(
      async () =>
        (
          await h.db.query(
            `SELECT 1 FROM sync_holds WHERE group_id = 'wait' AND approved_at IS NULL`,
          )
        ).rowCount === 1,
      20_000,
      'the deletes to be held',
    );
    // A newer change of a member that stays.
    await h.db.query(`UPDATE contacts SET attributes = '{"name":"newer"}' WHERE id = 'wait-2100'`);
    await waitFor(
      async () => {
        const g = (await emulatorState(h.emulator.url)).find((x) => x.name === 'wait');
        return g?.contacts.some((c) => c.fields.name === 'newer') ?? false;
      },
      30_000,
      'the newer change to arrive',
    );
    expect(await failedMembers(h)).toBe(0);
  });
});
