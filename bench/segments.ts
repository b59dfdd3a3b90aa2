/**
 * `npx tsx bench/segments.ts [--quick]` (also a step of `npm run bench`): the figures of issue 15.
 * A segment over 1,000,000 contacts evaluated from scratch; commit → API latency with 20 segment
 * groups defined; calls ÷ lower bound while contacts move between segments. Writes
 * bench/results/segments-<timestamp>.json. Env: DATABASE_URL (may CREATE DATABASE), REDIS_URL.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { benchStores, machineInfo } from './bench-env.ts';
import { measureSegmentEfficiency } from './segments-efficiency.ts';
import { measureSegmentLatency } from './segments-latency.ts';
import { measureScratch } from './segments-scratch.ts';

const { values } = parseArgs({
  options: { quick: { type: 'boolean', default: false }, only: { type: 'string' } },
});
const quick = values.quick;
const only = new Set((values.only ?? 'scratch,latency,efficiency').split(','));
const stores = benchStores();
const settings = {
  scratch: { contacts: quick ? 100_000 : 1_000_000 },
  // 0 segment groups: today's figure on the same machine at the same moment, for comparison.
  latency: { segments: [0, 20], perSecond: 200, seconds: quick ? 5 : 15, batchWindowMs: 0 },
  efficiency: { contacts: quick ? 1_000 : 4_000, rounds: 3, perRound: quick ? 200 : 800 },
};
const startedAt = new Date();
const figures: Record<string, unknown> = {};
for (const [name, run] of [
  ['scratch', () => measureScratch(stores, settings.scratch)],
  [
    'latency',
    async () => {
      const runs = [];
      for (const segments of settings.latency.segments) {
        runs.push(await measureSegmentLatency(stores, { ...settings.latency, segments }));
      }
      return runs;
    },
  ],
  ['efficiency', () => measureSegmentEfficiency(stores, settings.efficiency)],
] as const) {
  if (!only.has(name)) continue;
  console.log(`— segments ${name}…`);
  try {
    figures[name] = await run();
  } catch (err) {
    figures[name] = { error: err instanceof Error ? err.message : String(err) };
  }
  console.log(JSON.stringify(figures[name]));
}
const report = {
  at: startedAt.toISOString(),
  machine: await machineInfo(stores),
  settings,
  figures,
};
const dir = new URL('./results/', import.meta.url);
await mkdir(dir, { recursive: true });
const file = new URL(`./segments-${report.at.replace(/[:.]/g, '-')}.json`, dir);
await writeFile(file, `${JSON.stringify(report, null, 2)}\n`);
console.log(`written ${file.pathname}`);
process.exit(0);
