import { MultiBar, Presets, type SingleBar } from 'cli-progress';
import type pg from 'pg';
import { checkResyncProgress } from './resync-progress.ts';
import type { GroupProgress, ResyncRun } from './resync-types.ts';

export interface FollowOptions {
  /** Where progress goes (stderr for a CLI, so stdout keeps only the result). */
  out: NodeJS.WriteStream;
  /** Bars when `out` is a terminal; otherwise one plain line per change. */
  tty: boolean;
  pollMs?: number;
  /** Stops following (the resync itself goes on in the daemon). */
  signal?: AbortSignal;
}

/** Bar position and length of a group's current phase. */
function barOf(p: GroupProgress, expected: number): { value: number; total: number } {
  switch (p.phase) {
    case 'reading':
      return { value: p.read ?? 0, total: Math.max(expected, p.read ?? 0, 1) };
    case 'diffing':
    case 'planned':
      return { value: 1, total: 1 };
    case 'applying':
    case 'held':
    case 'done': {
      const total = p.total ?? 0;
      return { value: total - (p.remaining ?? 0), total: Math.max(total, 1) };
    }
    default:
      return { value: 0, total: 1 };
  }
}

/** A plain progress line for a log: phase and numbers, no terminal control. */
function plainLine(runId: string, groupId: string, p: GroupProgress): string {
  const numbers =
    p.phase === 'reading' || p.phase === 'diffing'
      ? ` (${p.read ?? 0} remote contacts read)`
      : p.phase === 'applying' || p.phase === 'held'
        ? ` (${(p.total ?? 0) - (p.remaining ?? 0)}/${p.total ?? 0} members)`
        : '';
  const held = p.phase === 'held' ? ': deletes held by the mass-deletion guard; approve with approve-deletes' : '';
  const error = p.phase === 'failed' ? `: ${p.error ?? 'unknown error'}` : '';
  return `resync run ${runId} group ${groupId}: ${p.phase}${numbers}${held}${error}\n`;
}

/**
 * Polls a run until it is done or failed, showing each group's phase (reading, diffing,
 * applying) as it goes: a bar per group on a terminal, plain lines otherwise (a line when a
 * phase changes, and at most every few seconds while applying). Returns the finished run, or the
 * last one seen when `signal` aborts.
 */
export async function followResync(
  pool: pg.Pool,
  runId: string,
  expected: Record<string, number>,
  opts: FollowOptions,
): Promise<ResyncRun> {
  const pollMs = opts.pollMs ?? 500;
  const multi = opts.tty
    ? new MultiBar(
        {
          stream: opts.out,
          format: '{group} {phase} [{bar}] {value}/{total}',
          hideCursor: true,
          clearOnComplete: false,
        },
        Presets.shades_classic,
      )
    : null;
  const bars = new Map<string, SingleBar>();
  const said = new Map<string, { line: string; at: number }>();
  try {
    for (;;) {
      const run = await checkResyncProgress(pool, runId);
      for (const groupId of run.groupIds) {
        const p = run.progress[groupId] ?? { phase: 'queued' };
        if (multi) {
          const { value, total } = barOf(p, expected[groupId] ?? 0);
          const payload = { group: groupId, phase: p.phase.padEnd(8) };
          const bar = bars.get(groupId);
          if (bar) {
            bar.setTotal(total);
            bar.update(value, payload);
          } else bars.set(groupId, multi.create(total, value, payload));
          continue;
        }
        const line = plainLine(runId, groupId, p);
        const last = said.get(groupId);
        const samePhase = last?.line.startsWith(`resync run ${runId} group ${groupId}: ${p.phase}`);
        if (last?.line === line || (samePhase && Date.now() - (last?.at ?? 0) < 5_000)) continue;
        opts.out.write(line);
        said.set(groupId, { line, at: Date.now() });
      }
      if (run.status === 'done' || run.status === 'failed' || opts.signal?.aborted) return run;
      await new Promise((r) => setTimeout(r, pollMs));
    }
  } finally {
    multi?.stop();
  }
}
