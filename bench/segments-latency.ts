import type { BenchStores } from './bench-env.ts';
import { runLatency, type LatencyFigures, type LatencySettings } from './latency.ts';

export interface SegmentLatencyResult extends LatencyFigures {
  segmentGroups: number;
}

/**
 * Commit → API arrival of single-contact updates, as bench/latency.ts measures it, with
 * `segments` segment groups defined: every claim of a changed contact now runs one statement per
 * segment. The updated contacts are members of four listed groups (where the modify is timed)
 * and match no segment (50 other contacts each do), so both runs make the same calls and the
 * difference is the segments' evaluation.
 */
export async function measureSegmentLatency(
  stores: BenchStores,
  opts: LatencySettings & { segments: number },
): Promise<SegmentLatencyResult> {
  const run = await runLatency(stores, opts, {
    scenario: 'segments-latency',
    setupSql: segmentGroupsSql(opts.segments),
    // The segments are evaluated over every contact first: let that start before waiting.
    settleMs: 2_000,
    setupDrainMs: 180_000,
  });
  // This bench reports the latency figures only, not the run's pace, loop delay or machine load.
  const {
    achievedPerSecond: _pace,
    stamperLoopDelayP99Ms: _loopDelay,
    stages: _stages,
    machineCpuBusy: _busy,
    ...figures
  } = run;
  return { segmentGroups: opts.segments, ...figures };
}

/** `segments` segment groups, each matched by 50 contacts of its own (x0…). */
const segmentGroupsSql = (segments: number): string => `
  INSERT INTO contacts (id, mobile, attributes)
    SELECT 'x' || i, '347' || lpad(i::text, 8, '0'),
           jsonb_build_object('name', 'Other ' || i, 'seg', 's' || (i % ${Math.max(1, segments)}))
    FROM generate_series(0, ${50 * segments - 1}) i;
  INSERT INTO groups (id, name, type, fields, segment)
    SELECT 'seg' || k, 'Segment ' || k, 'mobile', '{mobile,name}',
           format('c.attributes->>''seg'' = %L', 's' || k)
    FROM generate_series(0, ${segments - 1}) k;`;
