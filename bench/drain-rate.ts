import { Redis } from 'ioredis';
import type { startDaemon } from '../src/daemon.ts';
import type { LoggedCall } from '../src/emulator/index.ts';
import { callsBetween, emulatorCalls, insertGroups, setFaults, withRig } from './bench-daemon.ts';
import { nowMs, round, type BenchStores } from './bench-env.ts';
import { loadDaemonConfig } from '../src/config/config.ts';
import { createLogger } from '../src/observability/logger.ts';
import {
  baselineStartDaemon,
  baselineTree,
  DRAIN_BASELINE_REV,
  removeBaselineTree,
} from './drain-baseline.ts';

/** Seconds by which a drain exceeded calls ÷ R, by cause (they add up to wall − ideal). */
export interface DrainLosses {
  /** From the daemon's start to the first admitted call. */
  startup: number;
  /** Gaps of 0.5 s or more between admitted calls: a 429's Retry-After blocking every call. */
  blocks: number;
  /** The rest of the time between the first and the last call over (calls − 1) ÷ R: slots
   * spaced wider than 1/R, and stalls the budget did not make up. */
  steady: number;
  /** From the last admitted call to nothing left to sync. */
  tail: number;
  /** Informational: time in gaps over 2/R below 0.5 s (stalls), whether made up later or not. */
  stallGaps: number;
}

export interface DrainResult {
  limitPerSecond: number;
  budgetCeiling: number;
  backlog: number;
  wallSeconds: number;
  /** Calls the emulator admitted (answered): what the limit allows R of per second. */
  admittedCalls: number;
  idealSeconds: number;
  /** Wall time ÷ (admitted calls ÷ R): 1 means the limit was used to the full from the start. */
  wallPerIdeal: number;
  rateLimited: number;
  share429: number;
  achievedPerSecond: number;
  achievedPerLimit: number;
  /** Admitted calls per second between the first and the last, leaving start-up out. */
  steadyPerSecond: number;
  /** From the daemon's start to the first call's arrival. */
  startupSeconds: number;
  /** The budget's rate when drained (calls/s it spaces slots for). */
  budgetRateAtEnd: number;
  losses: DrainLosses;
  /** The same drain, same run, with the baseline revision's gateway ("before"). */
  baseline?: DrainResult & { rev: string };
}

const GROUPS = 4;

/**
 * A backlog of `backlog` modifies (every contact renamed while no daemon ran) drained by a daemon
 * whose budget ceiling is twice the provider's real limit: the adaptive budget has to find R.
 * Measured twice in one run, side by side: with the baseline revision's gateway (before) and
 * with this tree's (after); both daemons run in this process, the emulator in its own.
 */
export async function measureDrain(
  stores: BenchStores,
  opts: { backlog: number; limitPerSecond: number },
): Promise<DrainResult> {
  const dir = baselineTree();
  try {
    const before = await drainOnce(stores, opts, await baselineStartDaemon(dir));
    const after = await drainOnce(stores, opts, null);
    for (const [name, r] of [
      [`before (${DRAIN_BASELINE_REV})`, before],
      ['after', after],
    ] as const) {
      const l = r.losses;
      console.log(
        `  drain ${name}: ${r.wallPerIdeal} × ideal (${r.wallSeconds} s for ${r.admittedCalls} calls), ` +
          `429 share ${(100 * r.share429).toFixed(2)} % (${r.rateLimited}), steady ${r.steadyPerSecond}/s; ` +
          `lost: start-up ${l.startup} s, 429 blocks ${l.blocks} s, steady pace ${l.steady} s ` +
          `(stall gaps ${l.stallGaps} s), tail ${l.tail} s`,
      );
    }
    return { ...after, baseline: { ...before, rev: DRAIN_BASELINE_REV } };
  } finally {
    removeBaselineTree(dir);
  }
}

/** One drain; the measured daemon is the baseline's (`start` given) or this tree's (null). */
async function drainOnce(
  stores: BenchStores,
  opts: { backlog: number; limitPerSecond: number },
  start: typeof startDaemon | null,
): Promise<DrainResult> {
  const R = opts.limitPerSecond;
  const env = { AFILNET_RATE_LIMIT: String(2 * R) };
  const rigOpts = { scenario: 'drain', env, emulatorProcess: true };
  return withRig(stores, rigOpts, async (rig) => {
    const groups = Array.from({ length: GROUPS }, (_, k) => ({
      id: `g${k}`,
      type: 'mobile' as const,
      fields: ['mobile', 'name'],
    }));
    await insertGroups(rig.db, groups);
    const n = Math.round(opts.backlog);
    await rig.db.query(
      `BEGIN;
       INSERT INTO contacts (id, mobile, attributes)
         SELECT 'c' || i, '346' || lpad(i::text, 8, '0'), jsonb_build_object('name', 'Name ' || i)
         FROM generate_series(1, ${n}) i;
       INSERT INTO group_members (group_id, contact_id)
         SELECT 'g' || (i % ${GROUPS}), 'c' || i FROM generate_series(1, ${n}) i;
       COMMIT;`,
    );
    await rig.startDaemon();
    await rig.drained(120_000);
    await rig.stopDaemon();
    await rig.db.query(
      `UPDATE contacts SET attributes = jsonb_build_object('name', 'Renamed ' || id)`,
    );
    await setFaults(rig.emulator.url, { rateLimitPerSecond: R });
    const redis = new Redis(stores.redisUrl);
    // Both daemons start from an empty budget: nothing learnt by the unthrottled initial sync.
    const budgetKeys = await redis.keys(`${rig.prefix}:rate-budget*`);
    if (budgetKeys.length > 0) await redis.del(...budgetKeys);
    const before = await emulatorCalls(rig.emulator.url);
    const started = nowMs();
    const config = loadDaemonConfig(rig.env);
    const other = start ? await start(config, createLogger({ level: 'silent' })) : null;
    if (!other) await rig.startDaemon();
    const drainedAt = await rig.drained(30 * 60_000, 50);
    const budgetRate = Number(await redis.hget(`${rig.prefix}:rate-budget`, 'rate'));
    redis.disconnect();
    await other?.stop();
    const calls = callsBetween(before, await emulatorCalls(rig.emulator.url));
    const log = (await (
      await fetch(`${rig.emulator.url}/__emulator/requests`)
    ).json()) as LoggedCall[];
    const admittedTimes = log
      .filter((c) => c.at >= started && c.outcome !== 'rate_limited')
      .map((c) => c.at)
      .sort((a, b) => a - b);
    const wall = (drainedAt - started) / 1000;
    const limited = calls.rejected.rate_limited;
    const admitted = calls.total - limited;
    const first = admittedTimes[0] ?? started;
    const last = admittedTimes.at(-1) ?? started;
    return {
      limitPerSecond: R,
      budgetCeiling: 2 * R,
      backlog: opts.backlog,
      wallSeconds: round(wall, 1),
      admittedCalls: admitted,
      idealSeconds: round(admitted / R, 1),
      wallPerIdeal: round(wall / (admitted / R), 3),
      rateLimited: limited,
      share429: round(limited / calls.total, 4),
      achievedPerSecond: round(admitted / wall, 1),
      achievedPerLimit: round(admitted / wall / R, 3),
      steadyPerSecond: round((admittedTimes.length - 1) / ((last - first) / 1000), 1),
      startupSeconds: round((first - started) / 1000, 2),
      budgetRateAtEnd: round(budgetRate, 2),
      losses: losses(admittedTimes, started, drainedAt, R),
    };
  });
}

/** Splits wall − ideal into its causes, from the arrival times of the admitted calls. */
function losses(times: number[], started: number, drainedAt: number, R: number): DrainLosses {
  const spacing = 1000 / R;
  let blocks = 0;
  let stallGaps = 0;
  for (let i = 1; i < times.length; i++) {
    const gap = (times[i] as number) - (times[i - 1] as number);
    if (gap >= 500) blocks += gap - spacing;
    else if (gap > 2 * spacing) stallGaps += gap - spacing;
  }
  const first = times[0] ?? started;
  const last = times.at(-1) ?? started;
  const s = (ms: number) => round(ms / 1000, 2);
  return {
    startup: s(first - started),
    blocks: s(blocks),
    steady: s(last - first - blocks - (times.length - 1) * spacing),
    tail: s(drainedAt - last),
    stallGaps: s(stallGaps),
  };
}
