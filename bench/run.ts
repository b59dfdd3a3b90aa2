/**
 * `npm run bench [-- --quick] [-- --only efficiency,drain,latency,throughput,capture,import,resync,bulk]`
 *
 * Every figure of issue 8 in one run, comparisons side by side, printed as a table and written
 * to bench/results/bench-<timestamp>.json with the machine and the settings. docs/benchmarks.md
 * says what each figure means. Env: DATABASE_URL (a role that may CREATE DATABASE), REDIS_URL.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { benchStores, machineBusy, machineInfo, round } from './bench-env.ts';
import { measureCallEfficiency } from './call-efficiency.ts';
import { measureDrain } from './drain-rate.ts';
import { measureLatency } from './latency.ts';
import { buildTable, printTable, type Figures, type TableRow } from './report-table.ts';
import { runSubBench, type SubBenchRun } from './sub-benches.ts';
import { measureThroughput } from './throughput.ts';

const SCENARIOS = [
  'efficiency',
  'drain',
  'latency',
  'throughput',
  'capture',
  'import',
  'resync',
  'bulk',
];

const { values } = parseArgs({
  options: { quick: { type: 'boolean', default: false }, only: { type: 'string' } },
});
const quick = values.quick;
const only = new Set(values.only ? values.only.split(',') : SCENARIOS);
for (const s of only) if (!SCENARIOS.includes(s)) throw new Error(`unknown scenario ${s}`);

/** Sized so the defaults finish in < 10 min and --quick in < 2 min on 2 cores. */
const settings = {
  quick,
  efficiency: { contacts: quick ? 1_000 : 4_000, batch: 500, modes: ['normal', 'strict-docs'] },
  drain: { limitPerSecond: 50, budgetCeiling: 100, backlog: quick ? 750 : 3_000 },
  latency: { perSecond: 200, seconds: quick ? 8 : 20, batchWindowsMs: [200, 0] },
  throughput: { changes: quick ? 6_000 : 20_000 },
  capture: { BENCH_CONTACTS: quick ? '20000' : '100000', BENCH_RUNS: '3' },
  import: { rows: quick ? 100_000 : 500_000 },
  resync: { sizes: quick ? [100_000] : [100_000, 1_000_000] },
  bulk: { members: quick ? 100_000 : 1_000_000, modes: ['normal', 'strict-docs'] },
};

const stores = benchStores();
const figures: Figures = {
  efficiency: [],
  drain: null,
  latency: [],
  throughput: null,
  capture: null,
  import: null,
  resync: null,
};
const failures: TableRow[] = [];
/** The bulk-load scenario's rows (bench/bulk-load.ts, run as a child: its daemon is a child too). */
let bulk: SubBenchRun | null = null;
const bulkTable: TableRow[] = [];
/** Per scenario: seconds taken and the 1-minute load average around it (others' work shows). */
const steps: Record<
  string,
  { seconds: number; loadBefore: number; loadAfter: number; machineCpuBusy: number | null }
> = {};

/** Runs one scenario; a failure is reported in the table and the others still run. */
async function step(name: string, fn: () => Promise<void>): Promise<void> {
  if (!only.has(name)) return;
  const started = Date.now();
  const loadBefore = round(loadavg()[0] ?? 0, 2);
  const busy = machineBusy();
  console.log(`— ${name}…`);
  try {
    await fn();
  } catch (err) {
    console.error(err);
    failures.push({
      figure: name,
      measured: '—',
      target: '—',
      verdict: 'failed',
      note: err instanceof Error ? err.message : String(err),
    });
  }
  const seconds = round((Date.now() - started) / 1000, 1);
  const loadAfter = round(loadavg()[0] ?? 0, 2);
  const machineCpuBusy = busy();
  steps[name] = { seconds, loadBefore, loadAfter, machineCpuBusy };
  const cpu =
    machineCpuBusy === null ? '' : `, machine CPU ${Math.round(100 * machineCpuBusy)} % busy`;
  console.log(`  ${name} took ${seconds} s (load average ${loadBefore} → ${loadAfter}${cpu})`);
}

const startedAt = new Date();
const machine = await machineInfo(stores);
const loadBefore = loadavg().map((x) => round(x, 2));
console.log(
  `afilnet-sync benchmarks${quick ? ' (--quick)' : ''}: ${machine.cpus} CPUs, ` +
    `${machine.memoryGiB} GiB, Node ${machine.node}, Postgres ${machine.postgres}, Redis ${machine.redis}, ` +
    `load average ${loadBefore.join(' ')}`,
);

await step('efficiency', async () => {
  for (const strictDocs of [false, true]) {
    const contacts = settings.efficiency.contacts;
    figures.efficiency.push(await measureCallEfficiency(stores, { contacts, strictDocs }));
  }
});
await step('drain', async () => {
  const { backlog, limitPerSecond } = settings.drain;
  figures.drain = await measureDrain(stores, { backlog, limitPerSecond });
});
await step('latency', async () => {
  for (const batchWindowMs of settings.latency.batchWindowsMs) {
    const { perSecond, seconds } = settings.latency;
    figures.latency.push(await measureLatency(stores, { perSecond, seconds, batchWindowMs }));
  }
});
await step('throughput', async () => {
  figures.throughput = await measureThroughput(stores, settings.throughput);
});
const storesEnv = { DATABASE_URL: stores.databaseUrl, REDIS_URL: stores.redisUrl };
await step('capture', async () => {
  figures.capture = await runSubBench('capture', {
    quick,
    env: { ...storesEnv, ...settings.capture },
  });
});
await step('import', async () => {
  const args = ['--rows', String(settings.import.rows)];
  figures.import = await runSubBench('import', { quick, args, env: storesEnv });
});
await step('resync', async () => {
  figures.resync = await runSubBench('resync', { quick, env: storesEnv });
});
await step('bulk', async () => {
  bulk = await runSubBench('bulk-load', { quick, env: storesEnv });
  if (bulk.status !== 'ok') throw new Error(`bulk-load ${bulk.status}: ${bulk.error ?? ''}`);
  bulkTable.push(...((bulk.result as { table?: TableRow[] }).table ?? []));
});

const table = [...buildTable(figures), ...bulkTable, ...failures];
const seconds = round((Date.now() - startedAt.getTime()) / 1000, 1);
console.log(`\nResults (${seconds} s in all):\n`);
printTable(table);
const missed = table.filter((r) => r.verdict === 'MISSED' || r.verdict === 'failed');
if (missed.length > 0) {
  console.log(
    `\n${missed.length} figure(s) missed or failed: see the notes above and docs/benchmarks.md.`,
  );
}

const report = {
  at: startedAt.toISOString(),
  durationSeconds: seconds,
  machine: {
    ...machine,
    loadAverageBefore: loadBefore,
    loadAverageAfter: loadavg().map((x) => round(x, 2)),
  },
  settings,
  steps,
  table,
  figures: { ...figures, bulk },
};
const dir = new URL('./results/', import.meta.url);
await mkdir(dir, { recursive: true });
const file = new URL(`./bench-${report.at.replace(/[:.]/g, '-')}.json`, dir);
await writeFile(file, `${JSON.stringify(report, null, 2)}\n`);
console.log(`\nwritten ${file.pathname}`);
// Pools and sockets closed by each scenario; anything a dependency left open must not hang us.
process.exit(0);
