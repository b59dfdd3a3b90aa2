import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import type { StatusReport } from '../src/operator/status-report.ts';
import { SYNC_QUEUE } from '../src/sync/group-queue.ts';
import { useOperatorFixture } from './support/operator-fixture.ts';
import { parseJson, runCli } from './support/run-cli.ts';

const fx = useOperatorFixture();

interface StatusJson extends StatusReport {
  health: { healthy: boolean; verdict: string; problems: string[] };
  daemons: { workers: number } | null;
}

/** A BullMQ worker on the fixture's queue, as a running daemon has one. */
async function runningWorker(): Promise<Worker> {
  const worker = new Worker(SYNC_QUEUE, () => Promise.resolve(), {
    connection: new Redis(fx.env.REDIS_URL ?? '', { maxRetriesPerRequest: null }),
    prefix: fx.prefix,
    autorun: false,
  });
  await worker.waitUntilReady();
  return worker;
}

let worker: Worker | undefined;
afterEach(async () => {
  await worker?.close();
  worker = undefined;
});

describe('status', () => {
  it('says first, in one line, that it is unhealthy and why, and exits 3', async () => {
    const r = await runCli(['status'], fx.env);
    expect(r.code).toBe(3);
    const [first] = r.stdout.split('\n');
    expect(first).toMatch(/^UNHEALTHY: /);
    expect(first).toContain('no daemon is running');
    expect(first).toContain('1 group failed (g2)');
  });

  it('sees a running daemon in BullMQ’s worker list', async () => {
    worker = await runningWorker();
    const r = await runCli(['status', '--json'], fx.env);
    const report = parseJson<StatusJson>(r);
    expect(report.daemons?.workers).toBeGreaterThanOrEqual(1);
    expect(report.health.problems.join(' ')).not.toContain('no daemon');
  });

  it('is healthy, exit 0, for a group without problems while a daemon runs', async () => {
    worker = await runningWorker();
    const r = await runCli(['status', '--group', 'g1'], fx.env);
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).toMatch(/^OK: /);
    expect(r.stdout).toMatch(/^g1\s+Customers/m);
    expect(r.stdout).not.toMatch(/^g2\s/m);
  });

  it('shows the last sync as a time ago', async () => {
    const r = await runCli(['status', '--group', 'g1'], fx.env);
    expect(r.stdout).toMatch(/^g1\s.*\s(\d+ (ms|s|min) ago|just now)$/m);
  });

  it('lists only the groups with problems with --problems', async () => {
    const r = await runCli(['status', '--problems', '--json'], fx.env);
    const report = parseJson<StatusJson>(r);
    // g1 has a failing member and held deletes, g2 failed, gone is held: all three.
    expect(report.groups.map((g) => g.id)).toEqual(['g1', 'g2', 'gone']);
    await fx.db.query(`UPDATE sync_holds SET approved_at = now() WHERE group_id = 'g1'`);
    await fx.db.query(`UPDATE sync_member_state SET status = 'synced' WHERE contact_id = 'c16'`);
    const after = parseJson<StatusJson>(await runCli(['status', '--problems', '--json'], fx.env));
    expect(after.groups.map((g) => g.id)).toEqual(['g2', 'gone']);
  });

  it('refuses an unknown group', async () => {
    const r = await runCli(['status', '--group', 'nope'], fx.env);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('No group "nope"');
  });
});
