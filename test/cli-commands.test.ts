import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAllowedRate } from '../src/operator/allowed-rate.ts';
import type { ErrorReport } from '../src/operator/error-report.ts';
import type { StatusReport } from '../src/operator/status-report.ts';
import { SYNC_QUEUE } from '../src/sync/group-queue.ts';
import { parseJson, runCli } from './support/run-cli.ts';
import { createTestDatabase, testRedis } from './support/stores.ts';

let db: pg.Pool;
let drop: () => Promise<void>;
let redis: Redis;
let queue: Queue;
let env: Record<string, string>;
let prefix: string;
let dir: string;

const SEED = `
INSERT INTO groups (id, name, type, fields, afilnet_id) VALUES
  ('g1', 'Customers', 'mobile', '{mobile,name}', '101'), ('g2', 'News', 'email', '{email}', NULL);
INSERT INTO contacts (id, mobile, email)
  SELECT 'c' || i, '3460000' || lpad(i::text, 4, '0'), 'c' || i || '@example.com' FROM generate_series(1, 20) i;
INSERT INTO group_members SELECT 'g1', 'c' || i FROM generate_series(1, 20) i;
INSERT INTO group_members SELECT 'g2', 'c' || i FROM generate_series(1, 5) i;
INSERT INTO sync_member_state (group_id, contact_id, synced_fields, status)
  SELECT 'g1', 'c' || i, '{}'::jsonb, 'synced' FROM generate_series(1, 15) i;
INSERT INTO sync_member_state (group_id, contact_id, status, last_method, last_error, last_call_at) VALUES
  ('g1', 'c16', 'failed', 'modifycontact', 'INVALID_FIELD', now()),
  ('g2', 'c1', 'failed', NULL, 'DUPLICATE_MAIN_FIELD: contact c2 of this group already has it', NULL);
INSERT INTO sync_dirty (group_id, contact_id, seq, marked_at)
  SELECT 'g1', 'c' || i, nextval('sync_dirty_seq'), now() - interval '2 minutes' FROM generate_series(17, 18) i;
INSERT INTO sync_group_state (group_id, remote_id, status, last_error, last_sync_at, dirty) VALUES
  ('g1', '101', 'ok', NULL, now(), false),
  ('g2', NULL, 'failed', 'creategroup answered without the new group id', NULL, false),
  ('gone', '103', 'held', 'deletegroup held by the mass-deletion guard (500 contacts)', now(), false);
INSERT INTO sync_holds (group_id, kind, count, reason) VALUES
  ('g1', 'deletes', 30, '30 of 100 synced contacts would be deleted'),
  ('gone', 'deletegroup', 500, 'the group holds 500 synced contacts');
INSERT INTO sync_outbox (kind, contact_id, created_at) VALUES ('contact', 'c1', now() - interval '90 seconds');`;

beforeAll(async () => {
  const database = await createTestDatabase();
  drop = database.drop;
  db = new pg.Pool({ connectionString: database.url, max: 4 });
  await db.query(SEED);
  const r = testRedis();
  prefix = r.prefix;
  env = { DATABASE_URL: database.url, REDIS_URL: r.url, QUEUE_PREFIX: r.prefix };
  redis = new Redis(r.url);
  await redis.hset(`${prefix}:rate-budget`, 'rate', '2.5');
  queue = new Queue(SYNC_QUEUE, { connection: redis, prefix });
  dir = await mkdtemp(join(tmpdir(), 'afilnet-cli-'));
});
afterAll(async () => {
  await queue?.obliterate({ force: true });
  await queue?.close();
  await redis?.del(`${prefix}:rate-budget`);
  redis?.disconnect();
  await db?.end();
  await drop?.();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const queuedGroups = async () =>
  (await queue.getJobs(['waiting', 'delayed', 'prioritized'])).map((j) => (j.data as { groupId: string }).groupId).sort();

describe('every command', () => {
  it('explains itself with --help and exits 0', async () => {
    const commands = ['status', 'errors', 'retry', 'approve-deletes', 'import'];
    const results = await Promise.all(commands.map((c) => runCli([c, '--help'], env)));
    for (const [i, r] of results.entries()) {
      expect(r.code, commands[i]).toBe(0);
      expect(r.stdout).toContain(`Usage: afilnet-sync ${commands[i] ?? ''}`);
    }
    expect(results.filter((r) => r.stdout.includes('--json'))).toHaveLength(commands.length);
  });

  it('exits 1 with one clear line when the database or Redis cannot be reached', async () => {
    const noDb = { ...env, DATABASE_URL: 'postgres://postgres:postgres@127.0.0.1:1/nowhere' };
    const noRedis = { ...env, REDIS_URL: 'redis://127.0.0.1:1' };
    const [status, errors, imp, retry, approve] = await Promise.all([
      runCli(['status'], noDb),
      runCli(['errors'], noDb),
      runCli(['import', join(dir, 'x.csv')], noDb),
      runCli(['retry', '--all'], noRedis),
      runCli(['approve-deletes', 'g1'], noRedis),
    ]);
    for (const r of [status, errors, imp]) {
      expect(r.code).toBe(1);
      expect(r.stderr.trim()).toMatch(/^afilnet-sync: Cannot connect to the database at 127\.0\.0\.1:1\/nowhere: .*ECONNREFUSED/);
    }
    for (const r of [retry, approve]) {
      expect(r.code).toBe(1);
      expect(r.stderr.trim()).toBe('afilnet-sync: Cannot connect to Redis at 127.0.0.1:1: connect ECONNREFUSED 127.0.0.1:1');
    }
  });

  it('exits 2 naming the variable when the configuration is missing', async () => {
    const r = await runCli(['status'], { REDIS_URL: env.REDIS_URL ?? '' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/DATABASE_URL: missing/);
  });
});

describe('status', () => {
  it('reports per group counts, queue depths, outbox lag and the learned rate as JSON', async () => {
    const r = await runCli(['status', '--json'], env);
    expect(r.code).toBe(0);
    const report = parseJson<StatusReport>(r);
    const byId = Object.fromEntries(report.groups.map((g) => [g.id, g]));
    expect(byId.g1).toMatchObject({
      name: 'Customers',
      afilnetId: '101',
      members: 20,
      synced: 15,
      pending: 2,
      failed: 1,
      heldDeletes: 30,
      status: 'ok',
    });
    expect(byId.g2).toMatchObject({ members: 5, failed: 1, status: 'failed', lastError: expect.stringMatching(/creategroup/) as string });
    expect(byId.gone).toMatchObject({ exists: false, name: null, heldDeletes: 500, status: 'held', afilnetId: '103' });
    expect(report.queue).toMatchObject({ waiting: 0, active: 0, failed: 0 });
    expect(report.lag.oldestOutboxAgeMs).toBeGreaterThanOrEqual(90_000);
    expect(report.lag).toMatchObject({ dirtyMarks: 2 });
    expect(report.lag.oldestDirtyAgeMs).toBeGreaterThanOrEqual(120_000);
    expect(report.rate).toEqual({ rate: 2.5, ceiling: 10, source: 'budget' });
  });

  it('prints a readable table without --json', async () => {
    const r = await runCli(['status'], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^GROUP\s+NAME\s+AFILNET\s+MEMBERS/);
    expect(r.stdout).toMatch(/^g1\s+Customers\s+101\s+20\s+15\s+2\s+1\s+30\s+ok/m);
    expect(r.stdout).toMatch(/^gone\s+\(deleted\)/m);
    expect(r.stdout).toContain('Rate:    2.5 calls/s allowed (ceiling 10)');
  });

  it('reads the rate as the ceiling when nothing was learned, and never above it', async () => {
    expect(await readAllowedRate(redis, `${prefix}-unused`, 7)).toEqual({ rate: 7, ceiling: 7, source: 'ceiling' });
    expect(await readAllowedRate(redis, prefix, 2)).toEqual({ rate: 2, ceiling: 2, source: 'budget' });
  });
});

describe('errors', () => {
  it('lists failing members, group problems and open holds as JSON', async () => {
    const r = await runCli(['errors', '--json'], env);
    expect(r.code).toBe(0);
    const report = parseJson<ErrorReport>(r);
    expect(report.failedMembers).toBe(2);
    expect(report.members.map((m) => [m.groupId, m.contactId, m.lastMethod, m.lastError]).sort()).toEqual([
      ['g1', 'c16', 'modifycontact', 'INVALID_FIELD'],
      ['g2', 'c1', null, 'DUPLICATE_MAIN_FIELD: contact c2 of this group already has it'],
    ]);
    expect(report.groups.map((g) => [g.groupId, g.status])).toEqual([
      ['g2', 'failed'],
      ['gone', 'held'],
    ]);
    expect(report.holds.map((h) => [h.groupId, h.kind, h.count])).toEqual([
      ['g1', 'deletes', 30],
      ['gone', 'deletegroup', 500],
    ]);
  });

  it('narrows to one group, and refuses an unknown group or a bad --limit', async () => {
    const [one, unknown, badLimit] = await Promise.all([
      runCli(['errors', '--group', 'g1', '--json'], env),
      runCli(['errors', '--group', 'nope'], env),
      runCli(['errors', '--limit', 'many'], env),
    ]);
    const report = parseJson<ErrorReport>(one);
    expect(report.members.map((m) => m.contactId)).toEqual(['c16']);
    expect(report.groups).toEqual([]);
    expect(report.holds.map((h) => h.groupId)).toEqual(['g1']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('No group "nope"');
    expect(badLimit.code).toBe(2);
    expect(badLimit.stderr).toContain('--limit must be a positive integer');
  });
});

describe('retry', () => {
  it('refuses to guess the scope', async () => {
    const [none, both, unknown] = await Promise.all([
      runCli(['retry'], env),
      runCli(['retry', '--all', '--group', 'g1'], env),
      runCli(['retry', '--group', 'nope'], env),
    ]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('--group <id> (repeatable) or --all');
    expect(both.code).toBe(2);
    expect(unknown.code).toBe(1);
    expect(await queuedGroups()).toEqual([]);
  });

  it('marks a group’s failed members dirty with a fresh seq and queues the group', async () => {
    const before = await db.query<{ seq: string }>(`SELECT last_value::text AS seq FROM sync_dirty_seq`);
    const r = await runCli(['retry', '--group', 'g1', '--json'], env);
    expect(r.code).toBe(0);
    expect(parseJson(r)).toEqual({ members: 1, groups: 0, enqueued: ['g1'] });
    const mark = await db.query<{ seq: string; bulk: boolean }>(
      `SELECT seq::text AS seq, bulk FROM sync_dirty WHERE group_id = 'g1' AND contact_id = 'c16'`,
    );
    expect(BigInt(mark.rows[0]?.seq ?? '0')).toBeGreaterThan(BigInt(before.rows[0]?.seq ?? '0'));
    expect(mark.rows[0]?.bulk).toBe(false);
    expect(await queuedGroups()).toEqual(['g1']);
  });

  it('with --all also marks failed groups dirty, and prints counts', async () => {
    const r = await runCli(['retry', '--all'], env);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe('Marked 2 failed members and 1 failed group for another sync; queued 2 groups: g1, g2');
    const g2 = await db.query<{ dirty: boolean }>(`SELECT dirty FROM sync_group_state WHERE group_id = 'g2'`);
    expect(g2.rows[0]?.dirty).toBe(true);
    expect(await queuedGroups()).toEqual(['g1', 'g2']);
  });
});

describe('approve-deletes', () => {
  it('approves the open holds of a group, refreshes its marks and queues it', async () => {
    const before = await db.query<{ seq: string }>(`SELECT max(seq)::text AS seq FROM sync_dirty WHERE group_id = 'g1'`);
    const r = await runCli(['approve-deletes', 'gone', '--json'], env);
    expect(r.code).toBe(0);
    expect(parseJson(r)).toMatchObject({ groupId: 'gone', released: 1 });
    const text = await runCli(['approve-deletes', 'g1'], env);
    expect(text.stdout).toMatch(/^Approved 1 hold for group g1/);
    const holds = await db.query<{ approved_by: string | null }>(`SELECT approved_by FROM sync_holds ORDER BY id`);
    expect(holds.rows.map((h) => h.approved_by?.startsWith('cli'))).toEqual([true, true]);
    const after = await db.query<{ seq: string }>(`SELECT min(seq)::text AS seq FROM sync_dirty WHERE group_id = 'g1'`);
    expect(BigInt(after.rows[0]?.seq ?? '0')).toBeGreaterThan(BigInt(before.rows[0]?.seq ?? '0'));
    const gone = await db.query<{ dirty: boolean }>(`SELECT dirty FROM sync_group_state WHERE group_id = 'gone'`);
    expect(gone.rows[0]?.dirty).toBe(true);
    expect(await queuedGroups()).toContain('gone');
  });

  it('says when there was nothing to approve, and refuses an unknown or missing group', async () => {
    const [again, unknown, missing] = await Promise.all([
      runCli(['approve-deletes', 'g1'], env),
      runCli(['approve-deletes', 'nope'], env),
      runCli(['approve-deletes'], env),
    ]);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/^No open holds for group g1/);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('No group "nope"');
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain("missing required argument 'group-id'");
  });
});

describe('import', () => {
  it('imports a file, adds the members and prints a JSON summary', async () => {
    const file = join(dir, 'crm.csv');
    const report = join(dir, 'rejects.ndjson');
    await writeFile(file, 'id,mobile,name\nimp-1,34690000001,"One, First"\nimp-2,bad,Two\n');
    const r = await runCli(['import', file, '--group', 'g1', '--report', report, '--json'], env);
    expect(r.code).toBe(0);
    expect(parseJson(r)).toMatchObject({ read: 2, imported: 1, rejected: 1, membersAdded: 1, reportPath: report });
    expect((await readFile(report, 'utf8')).trim().split('\n').map((l) => (JSON.parse(l) as { line: number }).line)).toEqual([3]);
    const member = await db.query(`SELECT 1 FROM group_members WHERE group_id = 'g1' AND contact_id = 'imp-1'`);
    expect(member.rowCount).toBe(1);
    const again = await runCli(['import', file, '--group', 'g1', '--report', report], env);
    expect(again.stdout).toMatch(/^Read 2 rows in .*: 0 imported \(0 new, 0 changed\), 1 unchanged, 1 rejected\./);
  });

  it('exits 1 for a missing file or an unknown group, and 2 for an unknown format', async () => {
    const file = join(dir, 'ok.csv');
    await writeFile(file, 'id\nx\n');
    const [missing, group, format] = await Promise.all([
      runCli(['import', join(dir, 'absent.csv')], env),
      runCli(['import', file, '--group', 'nope'], env),
      runCli(['import', file, '--format', 'xml'], env),
    ]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/cannot read .*absent\.csv: ENOENT/);
    expect(group.code).toBe(1);
    expect(group.stderr).toContain('No group "nope"');
    expect(format.code).toBe(2);
    expect(format.stderr).toContain('--format');
  });
});
