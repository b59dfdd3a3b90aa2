import { monitorEventLoopDelay } from 'node:perf_hooks';
import { insertGroups, withRig } from './bench-daemon.ts';
import { machineBusy, nowMs, percentile, round, sleep, type BenchStores } from './bench-env.ts';
import { STAGE_STAMPS_SQL, stageBreakdown, type StageBreakdown } from './latency-stages.ts';
import { startRecordingProxy } from './recording-proxy.ts';

/** The figures every variant of the measurement reports. */
export interface LatencyFigures {
  batchWindowMs: number;
  targetPerSecond: number;
  updates: number;
  /** Updates whose modifycontact was seen (each update sets a value no other update sets). */
  matched: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
  /** The target: p99 below 150 ms plus the batch window. */
  p99TargetMs: number;
}

export interface LatencyRun extends LatencyFigures {
  achievedPerSecond: number;
  /** This process's event-loop delay p99 (it stamps both ends): how far a stamp may lag. */
  stamperLoopDelayP99Ms: number;
  /** p50/p95/p99 of each stage, from stamps the database took; null without `stageStamps`. */
  stages: StageBreakdown | null;
  /** Share of the machine's CPU time busy while the driver ran (everything, not only us). */
  machineCpuBusy: number | null;
}

export interface LatencyResult extends LatencyRun {
  stages: StageBreakdown;
}

export interface LatencySettings {
  perSecond: number;
  seconds: number;
  batchWindowMs: number;
}

/** What a variant of the measurement adds to the plain one. */
export interface LatencyVariant {
  /** Names the rig's database and Redis prefix. */
  scenario: string;
  /** More setup, run in the same transaction after the timed contacts and their memberships. */
  setupSql?: string;
  /** Waited after the daemon starts, before waiting for it to work through the setup. */
  settleMs?: number;
  /** How long the daemon may take to work through the setup (default 120 s). */
  setupDrainMs?: number;
  /** Stamps each stage in the database (bench/latency-stages.ts): an insert per mark and clear. */
  stageStamps?: boolean;
}

const GROUPS = 4;

/**
 * Commit → API arrival at a steady pace. The driver updates a different contact every 1/rate s,
 * each update setting a value no other sets, stamps the time right after COMMIT returns; a proxy
 * in front of the emulator stamps each modifycontact's arrival and reads which value it carries.
 * The daemon runs as a child process, so its work does not delay either stamp.
 */
export async function measureLatency(
  stores: BenchStores,
  opts: LatencySettings,
): Promise<LatencyResult> {
  const run = await runLatency(stores, opts, { scenario: 'latency', stageStamps: true });
  if (run.stages === null) throw new Error('latency: no stage stamps');
  return { ...run, stages: run.stages };
}

/**
 * The measurement of measureLatency, for `variant`: the updated contacts c0… are members of four
 * listed groups g0…g3, where each modify is timed, whatever else the variant defines.
 */
export async function runLatency(
  stores: BenchStores,
  opts: LatencySettings,
  variant: LatencyVariant,
): Promise<LatencyRun> {
  const updates = Math.round(opts.perSecond * opts.seconds);
  const env = {
    BATCH_WINDOW_MS: String(opts.batchWindowMs),
    AFILNET_RATE_LIMIT: String(opts.perSecond * 5),
  };
  const rigOpts = { scenario: variant.scenario, env, daemonProcess: true };
  return withRig(stores, rigOpts, async (rig) => {
    const proxy = await startRecordingProxy(rig.emulator.url);
    try {
      const groups = Array.from({ length: GROUPS }, (_, k) => ({
        id: `g${k}`,
        type: 'mobile' as const,
        fields: ['mobile', 'name', 'tag'],
      }));
      await insertGroups(rig.db, groups);
      await rig.db.query(
        `BEGIN;
         INSERT INTO contacts (id, mobile, attributes)
           SELECT 'c' || i, '346' || lpad(i::text, 8, '0'), jsonb_build_object('name', 'Name ' || i)
           FROM generate_series(0, ${updates - 1}) i;
         INSERT INTO group_members (group_id, contact_id)
           SELECT 'g' || (i % ${GROUPS}), 'c' || i FROM generate_series(0, ${updates - 1}) i;
         ${variant.setupSql ?? ''}
         COMMIT;`,
      );
      await rig.startDaemon({ AFILNET_BASE_URL: proxy.url });
      if (variant.settleMs !== undefined) await sleep(variant.settleMs);
      await rig.drained(variant.setupDrainMs ?? 120_000);
      if (variant.stageStamps === true) await rig.db.query(STAGE_STAMPS_SQL);
      await sleep(500);

      const loop = monitorEventLoopDelay({ resolution: 5 });
      loop.enable();
      const busy = machineBusy();
      const committedAt = new Array<number>(updates);
      const interval = 1000 / opts.perSecond;
      const inflight = new Set<Promise<void>>();
      const start = performance.now();
      for (let k = 0; k < updates; k++) {
        const wait = start + k * interval - performance.now();
        if (wait > 0) await sleep(wait);
        const done = rig.db
          .query(
            `UPDATE contacts SET attributes = attributes || jsonb_build_object('tag', $2::text) WHERE id = $1`,
            [`c${k}`, `t${k}`],
          )
          .then(() => void (committedAt[k] = nowMs()));
        inflight.add(done);
        void done.finally(() => inflight.delete(done));
        // The pool holds 6 connections; more in flight would only queue inside it.
        if (inflight.size >= 6) await Promise.race(inflight);
      }
      await Promise.all(inflight);
      const driverSeconds = (performance.now() - start) / 1000;
      const cpuBusy = busy();
      loop.disable();
      await rig.drained(120_000);

      // Update k set tag t<k>: its modifycontact is the one carrying that value.
      const arrivals = new Map<number, number>();
      for (const call of proxy.calls) {
        if (call.method !== 'modifycontact') continue;
        const tag = /(?:^|,)tag:t(\d+)(?:,|$)/.exec(call.params.get('contact') ?? '')?.[1];
        if (tag !== undefined && !arrivals.has(Number(tag))) arrivals.set(Number(tag), call.at);
      }
      const latencies: number[] = [];
      committedAt.forEach((at, k) => {
        const arrived = arrivals.get(k);
        if (arrived !== undefined) latencies.push(arrived - at);
      });
      latencies.sort((a, b) => a - b);
      return {
        batchWindowMs: opts.batchWindowMs,
        targetPerSecond: opts.perSecond,
        achievedPerSecond: round(updates / driverSeconds, 1),
        updates,
        matched: latencies.length,
        p50Ms: round(percentile(latencies, 50), 1),
        p95Ms: round(percentile(latencies, 95), 1),
        p99Ms: round(percentile(latencies, 99), 1),
        maxMs: round(latencies.at(-1) ?? Number.NaN, 1),
        p99TargetMs: 150 + opts.batchWindowMs,
        stamperLoopDelayP99Ms: round(loop.percentile(99) / 1e6, 1),
        stages:
          variant.stageStamps === true ? await stageBreakdown(rig.db, committedAt, arrivals) : null,
        machineCpuBusy: cpuBusy,
      };
    } finally {
      await proxy.close();
    }
  });
}
