import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { startDaemon } from '../src/daemon.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * The gateway the drain is compared against: the commit before the window-based budget
 * (override with BENCH_DRAIN_BASELINE=<rev>).
 */
export const DRAIN_BASELINE_REV = process.env.BENCH_DRAIN_BASELINE ?? 'd9a017d';

/**
 * A copy of this working tree whose `src/gateway` is the baseline revision's, so "before" and
 * "after" differ only in the gateway (capture, workers and schema are today's). Returns its
 * directory.
 */
export function baselineTree(rev = DRAIN_BASELINE_REV): string {
  const dir = join(tmpdir(), `afilnet-sync-drain-baseline-${process.pid}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const part of ['src', 'package.json', 'tsconfig.json']) {
    cpSync(join(ROOT, part), join(dir, part), { recursive: true });
  }
  // Read only: dependencies, and the migrations the daemon checks the database against.
  for (const shared of ['node_modules', 'prisma'])
    symlinkSync(join(ROOT, shared), join(dir, shared));
  const git = (...args: string[]) => execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' });
  const files = git('ls-tree', '--name-only', rev, 'src/gateway/').split('\n').filter(Boolean);
  for (const file of files) writeFileSync(join(dir, file), git('show', `${rev}:${file}`));
  // Today's code may import what the new gateway added; the old caller re-exports it.
  const caller = git('show', `${rev}:src/gateway/api-caller.ts`);
  if (
    existsSync(join(dir, 'src/gateway/gateway-errors.ts')) &&
    !/AccountPausedError/.test(caller)
  ) {
    const reexport = "export { AccountPausedError } from './gateway-errors.ts';";
    writeFileSync(join(dir, 'src/gateway/api-caller.ts'), `${caller}\n${reexport}\n`);
  }
  return dir;
}

/** Removes the copy made by `baselineTree`. */
export function removeBaselineTree(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** The baseline tree's `startDaemon`, loaded in this process (its own module graph). */
export async function baselineStartDaemon(dir: string): Promise<typeof startDaemon> {
  const url = pathToFileURL(join(dir, 'src/daemon.ts')).href;
  return ((await import(url)) as { startDaemon: typeof startDaemon }).startDaemon;
}
