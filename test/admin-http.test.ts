import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, emulatorState, waitFor, type Harness } from './support/harness.ts';
import { parsePrometheusText, sumOf } from './support/prometheus-text.ts';
import { drained } from './support/sync-helpers.ts';

const TOKEN = 'admin-http-test-token-0123456789';
const auth = { authorization: `Bearer ${TOKEN}` };
const json = { ...auth, 'content-type': 'application/json' };

const PROTECTED: [method: string, path: string, body?: unknown][] = [
  ['GET', '/metrics'],
  ['GET', '/status'],
  ['GET', '/errors'],
  ['POST', '/retry', { all: true }],
  ['POST', '/groups/g1/approve-deletes', {}],
  ['POST', '/resync', { all: true, dryRun: true }],
  ['GET', '/resync/1'],
  ['GET', '/queues'],
  ['GET', '/queues/api/queues'],
  ['GET', '/no-such-route'],
];

async function call(base: string, method: string, path: string, init: RequestInit = {}) {
  return fetch(`${base}${path}`, { method, redirect: 'manual', ...init });
}

async function scrape(base: string) {
  const res = await fetch(`${base}/metrics`, { headers: auth });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parsePrometheusText(await res.text());
}

describe('admin HTTP server', () => {
  let h: Harness;
  let base: string;
  beforeAll(async () => {
    h = await createHarness({ env: { ADMIN_TOKEN: TOKEN } });
    base = (await h.startDaemon()).adminUrl;
  });
  afterAll(async () => h?.close());

  it('answers /healthz without a token', async () => {
    const res = await fetch(`${base}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('reports ready when Postgres, Redis, the migrations and the account are (the checks to the token holder)', async () => {
    const res = await fetch(`${base}/readyz`, { headers: auth });
    const body = (await res.json()) as { status: string; checks: Record<string, { ok: boolean }> };
    expect(res.status).toBe(200);
    expect(body.status).toBe('ready');
    expect(body.checks).toEqual({
      postgres: { ok: true },
      redis: { ok: true },
      migrations: { ok: true },
      account: { ok: true },
    });
    const open = await fetch(`${base}/readyz`);
    expect(await open.json()).toEqual({ status: 'ready' });
  });

  it('answers 401 on every protected route without a token or with a wrong one', async () => {
    for (const [method, path, body] of PROTECTED) {
      const init = body === undefined ? {} : { body: JSON.stringify(body) };
      const wrong = { authorization: `Bearer ${TOKEN}x`, 'content-type': 'application/json' };
      const none = await call(base, method, path, {
        ...init,
        headers: { 'content-type': 'application/json' },
      });
      const bad = await call(base, method, path, { ...init, headers: wrong });
      expect([path, none.status, bad.status]).toEqual([path, 401, 401]);
      expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    }
  });

  it('refuses a cookie it did not issue', async () => {
    const forged = await call(base, 'GET', '/queues/api/queues', {
      headers: { cookie: 'afilnet_sync_admin=forged' },
    });
    expect(forged.status).toBe(401);
  });

  it('serves valid Prometheus text whose API call counter moves when the daemon syncs', async () => {
    const before = await scrape(base);
    expect(before.errors).toEqual([]);
    const callsBefore = sumOf(before.samples, 'afilnet_sync_api_calls_total');
    await h.db.query(`BEGIN;
      INSERT INTO groups (id, name, type, fields) VALUES ('g1', 'Customers', 'mobile', '{mobile,name}');
      INSERT INTO contacts (id, mobile, attributes)
        SELECT 'c' || i, '3461' || lpad(i::text, 7, '0'), jsonb_build_object('name', 'N' || i)
        FROM generate_series(1, 40) i;
      INSERT INTO contacts (id, mobile) VALUES ('bad', NULL);
      INSERT INTO group_members SELECT 'g1', id FROM contacts;
      COMMIT;`);
    await waitFor(() => drained(h), 30_000, 'the sync to drain');
    const after = await scrape(base);
    expect(after.errors).toEqual([]);
    expect(sumOf(after.samples, 'afilnet_sync_api_calls_total')).toBeGreaterThan(callsBefore);
    expect(
      sumOf(after.samples, 'afilnet_sync_api_calls_total', { method: 'addcontactlist' }),
    ).toBeGreaterThanOrEqual(1);
    expect(sumOf(after.samples, 'afilnet_sync_members', { state: 'failed' })).toBe(1);
    expect(sumOf(after.samples, 'afilnet_sync_members', { state: 'pending' })).toBe(0);
    expect(sumOf(after.samples, 'afilnet_sync_outbox_lag_seconds')).toBe(0);
    expect(sumOf(after.samples, 'afilnet_sync_api_allowed_calls_per_second')).toBe(1000);
    const names = new Set(after.samples.map((s) => s.name));
    for (const name of [
      'afilnet_sync_queue_jobs',
      'afilnet_sync_dirty_marks',
      'afilnet_sync_held_deletes',
      'afilnet_sync_oldest_unsynced_change_age_seconds',
    ]) {
      expect(names).toContain(name);
    }
    // Node's default metrics come along in the same answer, under their standard names.
    expect(names).toContain('process_cpu_seconds_total');
  });

  it('describes every group, the queue, the lag and the allowed rate on GET /status', async () => {
    const res = await fetch(`${base}/status`, { headers: auth });
    expect(res.status).toBe(200);
    const status = (await res.json()) as Record<string, unknown> & {
      groups: Record<string, unknown>[];
    };
    expect(Object.keys(status).sort()).toEqual([
      'accountPause',
      'at',
      'captureProblems',
      'daemons',
      'groups',
      'lag',
      'queue',
      'rate',
      'segmentConfinement',
    ]);
    expect(status.groups).toHaveLength(1);
    expect(status.groups[0]).toMatchObject({
      id: 'g1',
      name: 'Customers',
      exists: true,
      afilnetId: expect.any(String) as unknown,
      members: 41,
      synced: 40,
      failed: 1,
      pending: 0,
      heldDeletes: 0,
      status: 'ok',
    });
    expect(status.lag).toMatchObject({ outboxRows: 0, dirtyMarks: 0 });
    expect(status.queue).toHaveProperty('waiting');
    expect(status.rate).toMatchObject({ rate: 1000, ceiling: 1000 });
  });

  it('lists failed members with their reason on GET /errors', async () => {
    const res = await fetch(`${base}/errors?group=g1`, { headers: auth });
    expect(res.status).toBe(200);
    const report = (await res.json()) as { failedMembers: number; members: unknown[] };
    expect(report.failedMembers).toBe(1);
    expect(report.members).toEqual([
      expect.objectContaining({
        groupId: 'g1',
        contactId: 'bad',
        lastError: expect.stringMatching(/^MISSING_MAIN_FIELD/) as unknown,
      }),
    ]);
    expect((await fetch(`${base}/errors?group=nope`, { headers: auth })).status).toBe(404);
  });

  it('marks failed members dirty again on POST /retry, and rejects a body that names nothing', async () => {
    const res = await fetch(`${base}/retry`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ groups: ['g1'] }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ members: 1, groups: 0, enqueued: ['g1'] });
    await waitFor(() => drained(h), 30_000, 'the retry to run');
    const failed = await h.db.query<{ last_error: string }>(
      `SELECT last_error FROM sync_member_state WHERE status = 'failed'`,
    );
    expect(failed.rows.map((r) => r.last_error)).toEqual([
      expect.stringMatching(/^MISSING_MAIN_FIELD/),
    ]);
    const bad = await fetch(`${base}/retry`, { method: 'POST', headers: json, body: '{}' });
    expect(bad.status).toBe(400);
    const unknown = await fetch(`${base}/retry`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ groups: ['nope'] }),
    });
    expect(unknown.status).toBe(404);
  });

  it('releases deletes held by the guard on POST /groups/:id/approve-deletes', async () => {
    const unknown = await fetch(`${base}/groups/nope/approve-deletes`, {
      method: 'POST',
      headers: auth,
    });
    expect(unknown.status).toBe(404);
    await h.db.query(`DELETE FROM group_members WHERE group_id = 'g1' AND contact_id IN
                      (SELECT 'c' || i FROM generate_series(1, 20) i)`);
    const held = async () => {
      const s = (await (await fetch(`${base}/status`, { headers: auth })).json()) as {
        groups: { heldDeletes: number }[];
      };
      return s.groups[0]?.heldDeletes === 20;
    };
    await waitFor(held, 30_000, 'the deletes to be held');
    expect((await emulatorState(h.emulator.url))[0]?.contacts).toHaveLength(40);
    const res = await fetch(`${base}/groups/g1/approve-deletes`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ approvedBy: 'test' }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ groupId: 'g1', released: 1, enqueued: true });
    await waitFor(
      async () => (await emulatorState(h.emulator.url))[0]?.contacts.length === 20,
      30_000,
      'the approved deletes to reach the emulator',
    );
  });
});
