import { insertGroups, withRig } from './bench-daemon.ts';
import { nowMs, percentile, round, sleep, type BenchStores } from './bench-env.ts';
import { startRecordingProxy } from './recording-proxy.ts';

export interface SegmentLatencyResult {
  segmentGroups: number;
  batchWindowMs: number;
  targetPerSecond: number;
  updates: number;
  matched: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
  p99TargetMs: number;
}

const GROUPS = 4;

/**
 * Commit → API arrival of single-contact updates, as bench/latency.ts measures it, with
 * `segments` segment groups defined: every claim of a changed contact now runs one statement per
 * segment. The updated contacts are members of four listed groups (where the modify is timed)
 * and match no segment (50 other contacts each do), so both runs make the same calls and the
 * difference is the segments' evaluation.
 */
export async function measureSegmentLatency(
  stores: BenchStores,
  opts: { segments: number; perSecond: number; seconds: number; batchWindowMs: number },
): Promise<SegmentLatencyResult> {
  const updates = Math.round(opts.perSecond * opts.seconds);
  const env = {
    BATCH_WINDOW_MS: String(opts.batchWindowMs),
    AFILNET_RATE_LIMIT: String(opts.perSecond * 5),
  };
  return withRig(
    stores,
    { scenario: 'segments-latency', env, daemonProcess: true },
    async (rig) => {
      const proxy = await startRecordingProxy(rig.emulator.url);
      try {
        await insertGroups(
          rig.db,
          Array.from({ length: GROUPS }, (_, k) => ({
            id: `g${k}`,
            type: 'mobile' as const,
            fields: ['mobile', 'name', 'tag'],
          })),
        );
        await rig.db.query(
          `BEGIN;
         INSERT INTO contacts (id, mobile, attributes)
           SELECT 'c' || i, '346' || lpad(i::text, 8, '0'), jsonb_build_object('name', 'Name ' || i)
           FROM generate_series(0, ${updates - 1}) i;
         INSERT INTO contacts (id, mobile, attributes)
           SELECT 'x' || i, '347' || lpad(i::text, 8, '0'),
                  jsonb_build_object('name', 'Other ' || i, 'seg', 's' || (i % ${Math.max(1, opts.segments)}))
           FROM generate_series(0, ${50 * opts.segments - 1}) i;
         INSERT INTO group_members (group_id, contact_id)
           SELECT 'g' || (i % ${GROUPS}), 'c' || i FROM generate_series(0, ${updates - 1}) i;
         INSERT INTO groups (id, name, type, fields, segment)
           SELECT 'seg' || k, 'Segment ' || k, 'mobile', '{mobile,name}',
                  format('c.attributes->>''seg'' = %L', 's' || k)
           FROM generate_series(0, ${opts.segments - 1}) k;
         COMMIT;`,
        );
        await rig.startDaemon({ AFILNET_BASE_URL: proxy.url });
        await sleep(2_000);
        await rig.drained(180_000);
        await sleep(500);
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
          if (inflight.size >= 6) await Promise.race(inflight);
        }
        await Promise.all(inflight);
        await rig.drained(120_000);
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
          segmentGroups: opts.segments,
          batchWindowMs: opts.batchWindowMs,
          targetPerSecond: opts.perSecond,
          updates,
          matched: latencies.length,
          p50Ms: round(percentile(latencies, 50), 1),
          p95Ms: round(percentile(latencies, 95), 1),
          p99Ms: round(percentile(latencies, 99), 1),
          maxMs: round(latencies.at(-1) ?? Number.NaN, 1),
          p99TargetMs: 150 + opts.batchWindowMs,
        };
      } finally {
        await proxy.close();
      }
    },
  );
}
