import type { EfficiencyResult } from './call-efficiency.ts';
import type { DrainResult } from './drain-rate.ts';
import type { LatencyResult } from './latency.ts';
import { numberAt, type SubBenchRun } from './sub-benches.ts';
import type { ThroughputResult } from './throughput.ts';

/** One line of the printed table (and of the JSON's `table`). */
export interface TableRow {
  figure: string;
  measured: string;
  target: string;
  verdict: 'ok' | 'MISSED' | '—' | 'not run' | 'failed';
  /** Why a target was missed, or what the figure rests on. */
  note?: string | undefined;
}

export interface Figures {
  efficiency: EfficiencyResult[];
  drain: DrainResult | null;
  latency: LatencyResult[];
  throughput: ThroughputResult | null;
  capture: SubBenchRun | null;
  import: SubBenchRun | null;
  resync: SubBenchRun | null;
}

const judge = (ok: boolean): TableRow['verdict'] => (ok ? 'ok' : 'MISSED');
const pct = (x: number) => `${(100 * x).toFixed(2)} %`;

function efficiencyRows(e: EfficiencyResult): TableRow[] {
  const b = e.lowerBound;
  const bounds: Record<string, number> = {
    addcontactlist: b.addCalls,
    modifycontact: b.modifies,
    deletecontact: b.deletes,
    getcontacts: b.lookups,
  };
  const extra = Object.entries(e.daemonCalls)
    .filter(([m, n]) => n > (bounds[m] ?? 0))
    .map(([m, n]) => `${n - (bounds[m] ?? 0)} extra ${m}`);
  const repeats = Object.entries(e.repeatedModifies).map(([kind, n]) => `${n} on ${kind}`);
  if (repeats.length > 0) extra.push(`repeated modifycontact: ${repeats.join(', ')}`);
  if (e.callsPerLowerBoundOneLookupPerGroup !== null) {
    extra.push(`${e.callsPerLowerBoundOneLookupPerGroup} with one id look-up per group counted`);
  }
  const checked =
    e.mismatches === 0 ? 'database and emulator agree' : `${e.mismatches} MEMBERS DIFFER`;
  return [
    {
      figure: `calls ÷ lower bound (${e.mode})`,
      measured: `${e.callsPerLowerBound} (${e.daemonTotal} / ${b.total})`,
      target: '≤ 1.02',
      verdict: e.mismatches > 0 ? 'failed' : judge(e.callsPerLowerBound <= 1.02),
      note: `${extra.length ? extra.join(', ') : 'no call beyond the bound'}; ${checked}`,
    },
    {
      figure: `calls ÷ naive sync (${e.mode})`,
      measured: `${e.callsPerNaive} (${e.daemonTotal} / ${e.naiveTotal})`,
      target: '≤ 0.2',
      verdict: judge(e.callsPerNaive <= 0.2),
    },
  ];
}

function drainRows(d: DrainResult): TableRow[] {
  const why =
    `start-up ${d.startupSeconds} s to the first call; ${d.rateLimited} × 429, each blocking every ` +
    `call for its Retry-After (whole seconds, ≥ 1 s); steady pace ${d.steadyPerSecond}/s ` +
    `(${(d.steadyPerSecond / d.limitPerSecond).toFixed(3)} R), budget rate at the end ${d.budgetRateAtEnd}/s`;
  return [
    {
      figure: `drain time ÷ (calls ÷ R), R=${d.limitPerSecond}/s, ceiling ${d.budgetCeiling}`,
      measured: `${d.wallPerIdeal} (${d.wallSeconds} s for ${d.admittedCalls} calls, ideal ${d.idealSeconds} s)`,
      target: '≤ 1.05',
      verdict: judge(d.wallPerIdeal <= 1.05),
      note: why,
    },
    {
      figure: 'drain: 429 share',
      measured: `${pct(d.share429)} (${d.rateLimited})`,
      target: '< 2 %',
      verdict: judge(d.share429 < 0.02),
    },
    {
      figure: 'drain: achieved calls/s ÷ R',
      measured: `${d.achievedPerLimit} (${d.achievedPerSecond}/s)`,
      target: '≥ 0.9',
      verdict: judge(d.achievedPerLimit >= 0.9),
    },
  ];
}

const latencyRow = (l: LatencyResult): TableRow => ({
  figure: `latency commit → API, ${l.targetPerSecond}/s, BATCH_WINDOW_MS=${l.batchWindowMs}`,
  measured: `p50 ${l.p50Ms} / p95 ${l.p95Ms} / p99 ${l.p99Ms} ms`,
  target: `p99 < ${l.p99TargetMs} ms`,
  verdict: l.matched < l.updates ? 'failed' : judge(l.p99Ms < l.p99TargetMs),
  note:
    `${l.matched}/${l.updates} matched at ${l.achievedPerSecond}/s; p50/p95/p99 by stage: ` +
    `commit→dirty mark ${l.stages.commitToMark.join('/')}, mark→API ${l.stages.markToCall.join('/')}, ` +
    `API→mark cleared ${l.stages.callToCleared.join('/')} ms; stamping loop delay p99 ${l.stamperLoopDelayP99Ms} ms; ` +
    `machine CPU busy ${l.machineCpuBusy === null ? '?' : `${Math.round(100 * l.machineCpuBusy)} %`}`,
});

function subRows(
  name: string,
  run: SubBenchRun | null,
  rows: (r: unknown) => TableRow[],
): TableRow[] {
  if (!run) return [];
  if (run.status !== 'ok') {
    return [
      {
        figure: `${name} (${run.script})`,
        measured: '—',
        target: '—',
        verdict: run.status === 'missing' ? 'not run' : 'failed',
        note: run.status === 'missing' ? 'the script does not exist yet' : run.error?.slice(-300),
      },
    ];
  }
  return rows(run.result);
}

const num = (x: number | undefined, digits = 0) => (x === undefined ? '?' : x.toFixed(digits));

/** The table, row by row, from whatever was measured. */
export function buildTable(f: Figures): TableRow[] {
  const rows: TableRow[] = f.efficiency.flatMap(efficiencyRows);
  if (f.drain) rows.push(...drainRows(f.drain));
  rows.push(...f.latency.map(latencyRow));
  if (f.throughput) {
    const t = f.throughput;
    rows.push({
      figure: `throughput, unthrottled (${t.adds} adds + ${t.updates} updates)`,
      measured: `${t.changesPerSecond} changes/s (${t.drainedSeconds} s, commits took ${t.commitSeconds} s)`,
      target: '—',
      verdict: '—',
    });
  }
  rows.push(
    ...subRows('capture', f.capture, (r) => {
      const overhead = numberAt(r, 'verdict', 'triggerOverhead');
      const relay = numberAt(r, 'verdict', 'relayChangesPerSec');
      const overheadTarget = numberAt(r, 'verdict', 'triggerOverheadTarget') ?? 1.3;
      const relayTarget = numberAt(r, 'verdict', 'relayTarget') ?? 5000;
      return [
        {
          figure: `trigger overhead on a bulk insert (${num(numberAt(r, 'contacts'))} contacts)`,
          measured: `${num(overhead, 2)} × the time without triggers`,
          target: `≤ ${overheadTarget}`,
          verdict: overhead === undefined ? 'failed' : judge(overhead <= overheadTarget),
        },
        {
          figure: 'relay: outbox rows → dirty marks + jobs',
          measured: `${num(relay)} changes/s`,
          target: `≥ ${relayTarget}`,
          verdict: relay === undefined ? 'failed' : judge(relay >= relayTarget),
        },
      ];
    }),
    ...subRows('import', f.import, (r) => [
      {
        figure: `import of a CSV (${num(numberAt(r, 'rows'))} rows)`,
        measured: `${num(numberAt(r, 'import', 'rowsPerSecond'))} rows/s, ${num(numberAt(r, 'importVsCopy'), 3)} × a bare COPY's speed`,
        target: '—',
        verdict: '—',
      },
    ]),
    ...subRows('resync', f.resync, (r) => {
      const results = (r as { results?: unknown[] }).results ?? [];
      return results.map((x) => {
        const size = numberAt(x, 'size') ?? 0;
        const seconds = (numberAt(x, 'planMs') ?? Number.NaN) / 1000;
        const rss = numberAt(x, 'peakRssMiB') ?? Number.NaN;
        const big = size >= 1_000_000;
        return {
          figure: `resync local phase, ${size.toLocaleString('en')} contacts`,
          measured: `${seconds.toFixed(1)} s, peak RSS ${num(rss)} MiB`,
          target: big ? '< 60 s, < 256 MiB' : '—',
          verdict: big ? judge(seconds < 60 && rss < 256) : '—',
          note: (x as { exact?: boolean }).exact === false ? 'the plan was NOT exact' : undefined,
        } satisfies TableRow;
      });
    }),
  );
  return rows;
}

/** Prints the table as aligned text columns, notes on their own indented line. */
export function printTable(rows: readonly TableRow[]): void {
  const cols = ['figure', 'measured', 'target', 'verdict'] as const;
  const width = cols.map((c) => Math.max(c.length, ...rows.map((r) => r[c].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(width[i] ?? 0)).join('  ');
  console.log(line([...cols]));
  console.log(line(width.map((w) => '-'.repeat(w))));
  for (const r of rows) {
    console.log(line(cols.map((c) => r[c])));
    if (r.note) console.log(`    ${r.note}`);
  }
}
