/**
 * Chaos soak (`npm run chaos [-- --quick]`): its own Postgres, Redis (AOF on) and emulator (faults
 * on), three daemon processes, and CRM-like writers driving ≥100,000 changes while daemons are
 * SIGKILLed every ~20 s, Redis is restarted twice and Postgres once. Then faults go off, the soak
 * waits for convergence and checks every group Jepsen-style: lost, duplicated, unexpected and
 * stale contacts. Exits non-zero on any of them. Results: bench/results/chaos-<timestamp>.json.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { failing, checkConvergence } from './chaos/check.ts';
import { awaitConvergence, backlog } from './chaos/convergence.ts';
import { DaemonFleet } from './chaos/daemon-fleet.ts';
import { gatherEvidence } from './chaos/evidence.ts';
import { Driver } from './chaos/driver.ts';
import { SoakOperator } from './chaos/operator.ts';
import { parseProfile } from './chaos/profile.ts';
import { passed, printSummary, writeResults, type SoakSummary } from './chaos/report.ts';
import { startStack } from './chaos/stack.ts';
import { plannedEvents } from './chaos/events.ts';
import { Timeline } from './chaos/timeline.ts';
import { Workload } from './chaos/workload.ts';
import {
  CREATE_GROUP_SQL,
  DELETED_GROUP,
  groupName,
  INITIAL_GROUPS,
} from './chaos/workload-sql.ts';

const FAULTS = {
  errorRate: 0.05,
  resetRate: 0.02,
  appliedThenResetRate: 0.01,
  rateLimitPerSecond: 400,
  latencyMs: 5,
};
const FAULTS_OFF = {
  errorRate: 0,
  resetRate: 0,
  appliedThenResetRate: 0,
  rateLimitPerSecond: 0,
  latencyMs: 0,
};
const MAX_FIELD_LENGTH = 255; // the daemon's default
const GROUP_METHODS = new Set([
  'creategroup',
  'addcolumntogroup',
  'deletecolumnfromgroup',
  'deletegroup',
  'assigncountrytogroup',
]);

const t0 = Date.now();
const say = (line: string): void =>
  console.log(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(6)} s] ${line}`);

/** Polls `check` every 500 ms until it holds; false after `timeoutMs`. */
async function until(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return true;
    await sleep(500);
  }
  return false;
}

async function main(): Promise<number> {
  const profile = parseProfile(process.argv.slice(2));
  const at = new Date().toISOString();
  say(
    `chaos soak "${profile.name}": ${profile.changes} changes over ~${profile.driveMs / 1000} s, ` +
      `${profile.daemons} daemons, a kill every ~${profile.killEveryMs / 1000} s, Redis AOF ${profile.aof ? 'on' : 'OFF'}` +
      (profile.without.length > 0 ? `, without ${profile.without.join(', ')}` : ''),
  );
  const stack = await startStack({ aof: profile.aof });
  let fleet: DaemonFleet | null = null;
  let keepLogs = true;
  const abort = async (why: string) => {
    say(`${why}: stopping everything (logs kept in ${stack.logDir})`);
    await fleet?.stopAll(2_000).catch(() => undefined);
    await stack.destroy(true);
    process.exit(2);
  };
  const hardLimit = setTimeout(
    () => void abort('hard time limit reached'),
    profile.hardLimitMs - (Date.now() - t0),
  );
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.once(signal, () => void abort(signal));
  try {
    say(`Postgres ${stack.postgres.url}, Redis ${stack.redis.url}, emulator ${stack.emulator.url}`);
    for (const g of INITIAL_GROUPS) {
      await stack.pool.query(CREATE_GROUP_SQL, [g.id, groupName(g.id), g.type, g.fields]);
    }
    fleet = new DaemonFleet(profile.daemons, stack.daemonEnv, stack.logDir, t0);
    fleet.startAll();
    const ready = await until(async () => {
      const res = await stack.pool.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM sync_group_state WHERE remote_id IS NOT NULL',
      );
      return (res.rows[0]?.n ?? 0) >= INITIAL_GROUPS.length;
    }, 60_000);
    if (!ready)
      throw new Error(
        `the daemons did not create the initial groups within 60 s (logs: ${stack.logDir})`,
      );
    await stack.emulator.setFaults(FAULTS);
    say(`daemons up, groups created; faults on: ${JSON.stringify(FAULTS)}`);

    const workload = new Workload(INITIAL_GROUPS, profile.name === 'quick' ? 500 : 2_000);
    const driver = new Driver(stack.pool, workload, {
      workers: profile.writers,
      changesPerSecond: profile.changes / (profile.driveMs / 1000),
      maxChanges: profile.changes,
      without: profile.without,
    });
    const operator = new SoakOperator(stack.pool, stack.emulator, stack.daemonEnv, t0, groupName);
    const timeline = new Timeline(
      plannedEvents(stack, driver, workload, profile.redisDownMs),
      fleet,
      { driveMs: profile.driveMs, killEveryMs: profile.killEveryMs, t0 },
      say,
    );
    const driveStart = Date.now();
    driver.start();
    timeline.start();
    // The drive ends once the changes are made and every planned event has run (bounded).
    const driveDeadline = driveStart + profile.driveMs * 2;
    let lastTend = 0;
    while (
      Date.now() < driveDeadline &&
      !(driver.stats.changes >= profile.changes && timeline.remaining === 0)
    ) {
      await sleep(1_000);
      if (Date.now() - lastTend < 10_000) continue;
      lastTend = Date.now();
      await operator.tend();
      const b = await backlog(stack.pool).catch(() => null);
      say(
        `drive: ${driver.stats.changes}/${profile.changes} changes, ${fleet.kills} kills, ` +
          `${driver.stats.failedTransactions} failed tx; outbox ${b?.outbox ?? '?'}, dirty ${b?.dirty ?? '?'}`,
      );
    }
    await driver.stop();
    await timeline.stop();
    const driveMs = Date.now() - driveStart;
    await stack.emulator.setFaults(FAULTS_OFF);
    say(
      `drive over: ${driver.stats.changes} changes in ${(driveMs / 1000).toFixed(0)} s; faults off, waiting for convergence`,
    );

    const deletedGroupNames = [groupName(DELETED_GROUP)];
    const convergence = await awaitConvergence(stack.pool, stack.emulator, operator, {
      timeoutMs: profile.convergeMs,
      stuckMs: profile.stuckMs,
      maxFieldLength: MAX_FIELD_LENGTH,
      deletedGroupNames,
      log: say,
    });
    say(
      convergence.converged
        ? `converged in ${(convergence.ms / 1000).toFixed(1)} s`
        : 'did NOT converge',
    );
    await fleet.stopAll(10_000);
    // The verdict: one more read with every daemon stopped, so nothing can change under it.
    const finalBacklog = await backlog(stack.pool);
    const check = await checkConvergence(stack.pool, await stack.emulator.state(), {
      maxFieldLength: MAX_FIELD_LENGTH,
      deletedGroupNames,
    });
    const empty = finalBacklog.outbox + finalBacklog.dirty + finalBacklog.dirtyGroups === 0;
    const summary: SoakSummary = {
      changes: driver.stats.changes,
      kills: fleet.kills,
      redisRestarts: timeline.log.filter((e) => e.event.startsWith('restart redis') && e.ok).length,
      postgresRestarts: timeline.log.filter((e) => e.event === 'restart postgres' && e.ok).length,
      unexpectedExits: fleet.unexpectedExits.length,
      operatorActions: operator.actions.length,
      converged: convergence.converged && empty,
      convergeMs: convergence.ms,
      drainedMs: convergence.drainedMs,
      check,
    };
    printSummary(summary, say);
    const evidence = failing(check) > 0 ? await gatherEvidence(stack.pool, check) : [];
    keepLogs = !passed(summary);
    const file = await writeResults(at, {
      at,
      node: process.version,
      profile,
      faults: FAULTS,
      summary: { ...summary, check: undefined, failing: failing(check), passed: passed(summary) },
      drive: { ms: driveMs, ...driver.stats },
      chaos: {
        events: timeline.log,
        daemonStarts: fleet.starts,
        unexpectedExits: fleet.unexpectedExits,
      },
      operator: operator.actions,
      emulatorCalls: await stack.emulator.calls(),
      // Group-level calls in time (ms since the start), next to the events' times above.
      groupCalls: (await stack.emulator.requests())
        .filter((c) => c.method !== null && GROUP_METHODS.has(c.method))
        .map((c) => ({ at: Math.round(c.at - t0), method: c.method, outcome: c.outcome })),
      convergence: { ...convergence, last: undefined, finalBacklog },
      check,
      evidence,
      logs: keepLogs ? stack.logDir : null,
    });
    say(`results written to ${file}${keepLogs ? `; daemon logs kept in ${stack.logDir}` : ''}`);
    say(passed(summary) ? 'PASS' : 'FAIL');
    return passed(summary) ? 0 : 1;
  } finally {
    clearTimeout(hardLimit);
    await fleet?.stopAll(5_000).catch(() => undefined);
    await stack.destroy(keepLogs);
  }
}

process.exitCode = await main().catch((err: unknown) => {
  console.error(err);
  return 2;
});
