import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { round } from './bench-env.ts';

const BENCH_DIR = fileURLToPath(new URL('.', import.meta.url));
const ROOT = join(BENCH_DIR, '..');
const RESULTS_DIR = join(BENCH_DIR, 'results');

/** What running one of the other benchmark scripts gave. */
export interface SubBenchRun {
  script: string;
  status: 'ok' | 'missing' | 'failed';
  args: string[];
  seconds: number;
  /** The JSON it wrote under bench/results/, parsed. */
  result?: unknown;
  resultFile?: string;
  error?: string;
}

/**
 * Runs `npx tsx bench/<name>.ts` as its owner wrote it (with --quick when it takes that flag) and
 * reads the newest bench/results/<name>-*.json written during the run. A script that is not
 * there is reported as missing; one that fails, with the tail of its output.
 */
export async function runSubBench(
  name: string,
  opts: { quick: boolean; args?: string[]; env?: Record<string, string> },
): Promise<SubBenchRun> {
  const script = `bench/${name}.ts`;
  const path = join(ROOT, script);
  const args = [...(opts.args ?? [])];
  if (!existsSync(path)) return { script, status: 'missing', args, seconds: 0 };
  if (opts.quick && /--quick/.test(readFileSync(path, 'utf8'))) args.push('--quick');
  const started = Date.now();
  let tail = '';
  const code = await new Promise<number | null>((resolve) => {
    const child = spawn('npx', ['tsx', script, ...args], {
      cwd: ROOT,
      env: { ...process.env, ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let partial = '';
    const echo = (d: Buffer) => {
      const text = d.toString();
      tail = (tail + text).slice(-2_000);
      // Whole lines, indented and named, so the run's own progress stays readable.
      const lines = (partial + text).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) process.stdout.write(`    [${name}] ${line}\n`);
    };
    child.stdout.on('data', echo);
    child.stderr.on('data', echo);
    child.once('error', () => resolve(null));
    child.once('exit', (c) => resolve(c));
  });
  const seconds = round((Date.now() - started) / 1000, 1);
  if (code !== 0) {
    // The first error line says more than the stack under it.
    const first = /^.*(?:Error|error:).*$/m.exec(tail)?.[0]?.trim() ?? tail.trim().slice(-300);
    return { script, status: 'failed', args, seconds, error: `exit ${code}: ${first}` };
  }
  const file = await newestResult(name, started);
  if (!file) {
    return { script, status: 'failed', args, seconds, error: 'no result file was written' };
  }
  const result: unknown = JSON.parse(await readFile(file, 'utf8'));
  return { script, status: 'ok', args, seconds, result, resultFile: file };
}

async function newestResult(name: string, since: number): Promise<string | undefined> {
  const files = (await readdir(RESULTS_DIR).catch(() => [] as string[])).filter(
    (f) => f.startsWith(`${name}-`) && f.endsWith('.json'),
  );
  let best: { file: string; mtime: number } | undefined;
  for (const f of files) {
    const file = join(RESULTS_DIR, f);
    const { mtimeMs } = await stat(file);
    if (mtimeMs >= since && (!best || mtimeMs > best.mtime)) best = { file, mtime: mtimeMs };
  }
  return best?.file;
}

/** Reads a number at a path of keys, or undefined when the shape is not what was expected. */
export function numberAt(value: unknown, ...path: (string | number)[]): number | undefined {
  let at: unknown = value;
  for (const key of path) {
    if (at === null || typeof at !== 'object') return undefined;
    at = (at as Record<string | number, unknown>)[key];
  }
  return typeof at === 'number' && Number.isFinite(at) ? at : undefined;
}
