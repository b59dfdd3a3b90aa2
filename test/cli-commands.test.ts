import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readAllowedRate } from '../src/operator/allowed-rate.ts';
import type { ErrorReport } from '../src/operator/error-report.ts';
import type { StatusReport } from '../src/operator/status-report.ts';
import { useOperatorFixture } from './support/operator-fixture.ts';
import { parseJson, runCli } from './support/run-cli.ts';

const fx = useOperatorFixture();

describe('every command', () => {
  it('explains itself with --help and exits 0', async () => {
    const commands = ['status', 'errors', 'retry', 'approve-deletes', 'import'];
    const results = await Promise.all(commands.map((c) => runCli([c, '--help'], fx.env)));
    for (const [i, r] of results.entries()) {
      expect(r.code, commands[i]).toBe(0);
      expect(r.stdout).toContain(`Usage: afilnet-sync ${commands[i] ?? ''}`);
    }
    expect(results.filter((r) => r.stdout.includes('--json'))).toHaveLength(commands.length);
  });

  it('exits 1 with one clear line when the database or Redis cannot be reached', async () => {
    const noDb = { ...fx.env, DATABASE_URL: 'postgres://postgres:postgres@127.0.0.1:1/nowhere' };
    const noRedis = { ...fx.env, REDIS_URL: 'redis://127.0.0.1:1' };
    const [status, errors, imp, retry, approve] = await Promise.all([
      runCli(['status'], noDb),
      runCli(['errors'], noDb),
      runCli(['import', join(fx.dir, 'x.csv')], noDb),
      runCli(['retry', '--all'], noRedis),
      runCli(['approve-deletes', 'g1'], noRedis),
    ]);
    for (const r of [status, errors, imp]) {
      expect(r.code).toBe(1);
      expect(r.stderr.trim()).toMatch(
        /^afilnet-sync: Cannot connect to the database at 127\.0\.0\.1:1\/nowhere: .*ECONNREFUSED/,
      );
    }
    for (const r of [retry, approve]) {
      expect(r.code).toBe(1);
      expect(r.stderr.trim()).toBe(
        'afilnet-sync: Cannot connect to Redis at 127.0.0.1:1: connect ECONNREFUSED 127.0.0.1:1',
      );
    }
  });

  it('exits 2 naming the variable when the configuration is missing', async () => {
    const r = await runCli(['status'], { REDIS_URL: fx.env.REDIS_URL ?? '' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/DATABASE_URL: missing/);
  });
});

describe('status', () => {
  it('reports per group counts, queue depths, outbox lag and the learned rate as JSON', async () => {
    const r = await runCli(['status', '--json'], fx.env);
    // Unhealthy: no daemon runs and g2 failed (see cli-status.test.ts).
    expect(r.code).toBe(3);
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
    expect(byId.g2).toMatchObject({
      members: 5,
      failed: 1,
      status: 'failed',
      lastError: expect.stringMatching(/creategroup/) as string,
    });
    expect(byId.gone).toMatchObject({
      exists: false,
      name: null,
      heldDeletes: 500,
      status: 'held',
      afilnetId: '103',
    });
    expect(report.queue).toMatchObject({ waiting: 0, active: 0, failed: 0 });
    expect(report.lag.oldestOutboxAgeMs).toBeGreaterThanOrEqual(90_000);
    expect(report.lag).toMatchObject({ dirtyMarks: 2 });
    expect(report.lag.oldestDirtyAgeMs).toBeGreaterThanOrEqual(120_000);
    expect(report.rate).toEqual({ rate: 2.5, ceiling: 10, source: 'budget' });
  });

  it('prints a readable table without --json', async () => {
    const r = await runCli(['status'], fx.env);
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/^UNHEALTHY: .*\n\nGROUP\s+NAME\s+AFILNET\s+MEMBERS/);
    expect(r.stdout).toMatch(/^g1\s+Customers\s+101\s+20\s+15\s+2\s+1\s+30\s+ok/m);
    expect(r.stdout).toMatch(/^gone\s+\(deleted\)/m);
    expect(r.stdout).toContain('Rate:    2.5 calls/s allowed (ceiling 10)');
  });

  it('reads the rate as the ceiling when nothing was learned, and never above it', async () => {
    expect(await readAllowedRate(fx.redis, `${fx.prefix}-unused`, 7)).toEqual({
      rate: 7,
      ceiling: 7,
      source: 'ceiling',
    });
    expect(await readAllowedRate(fx.redis, fx.prefix, 2)).toEqual({
      rate: 2,
      ceiling: 2,
      source: 'budget',
    });
  });
});

describe('errors', () => {
  it('lists failing members, group problems and open holds as JSON', async () => {
    const r = await runCli(['errors', '--json'], fx.env);
    expect(r.code).toBe(0);
    const report = parseJson<ErrorReport>(r);
    expect(report.failedMembers).toBe(2);
    expect(
      report.members.map((m) => [m.groupId, m.contactId, m.lastMethod, m.lastError]).sort(),
    ).toEqual([
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
      runCli(['errors', '--group', 'g1', '--json'], fx.env),
      runCli(['errors', '--group', 'nope'], fx.env),
      runCli(['errors', '--limit', 'many'], fx.env),
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
