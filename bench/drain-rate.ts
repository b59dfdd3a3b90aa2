import type { LoggedCall } from '../src/emulator/index.ts';
import { callsBetween, emulatorCalls, insertGroups, setFaults, withRig } from './bench-daemon.ts';
import { nowMs, round, type BenchStores } from './bench-env.ts';

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
  /** The budget's rate when drained (calls/s it spaces slots for; 3 % margin on top). */
  budgetRateAtEnd: number;
}

const GROUPS = 4;

/**
 * A backlog of `backlog` modifies (every contact renamed while no daemon ran) drained by a daemon
 * whose budget ceiling is twice the provider's real limit: the adaptive budget has to find R.
 */
export async function measureDrain(
  stores: BenchStores,
  opts: { backlog: number; limitPerSecond: number },
): Promise<DrainResult> {
  const R = opts.limitPerSecond;
  const env = { AFILNET_RATE_LIMIT: String(2 * R) };
  return withRig(stores, { scenario: 'drain', env, emulatorProcess: true }, async (rig) => {
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
    const before = await emulatorCalls(rig.emulator.url);
    const started = nowMs();
    await rig.startDaemon();
    const drainedAt = await rig.drained(30 * 60_000, 50);
    const budgetRate = rig.daemon?.budget.currentRate ?? Number.NaN;
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
    };
  });
}
