import { MultiBar, Presets, type SingleBar } from 'cli-progress';
import type pg from 'pg';
import { checkResyncProgress } from './resync-progress.ts';
import type { GroupProgress, ResyncRun } from './resync-types.ts';

export interface FollowOptions {
  /** Where progress goes (stderr for a CLI, so stdout keeps only the result). */
  out: NodeJS.WriteStream;
  /** Bars when `out` is a terminal; otherwise one plain line per change. */
  tty: boolean;
  /** Polls without showing anything (for a caller that prints only the result). */
  quiet?: boolean;
  pollMs?: number;
  /** Stops following (the resync itself goes on in the daemon). */
  signal?: AbortSignal;
}

/** How long a request may sit unclaimed before the follower says the daemon may be down. */
const QUEUED_HINT_MS = 30_000;

/** Bar position and length of a group's current phase. */
function barOf(p: GroupProgress, expected: number): { value: number; total: number } {
  switch (p.phase) {
    case 'reading':
      return { value: p.read ?? 0, total: Math.max(expected, p.read ?? 0, 1) };
    case 'diffing':
      return { value: 1, total: 1 };
    case 'planned':
      // An apply's corrections (total/remaining) are committed slice by slice before it applies.
      if (p.total === undefined) return { value: 1, total: 1 };
      return { value: p.total - (p.remaining ?? 0), total: Math.max(p.total, 1) };
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
  const held =
    p.phase === 'held'
      ? ': deletes held by the mass-deletion guard; approve with approve-deletes'
      : '';
  const error = p.phase === 'failed' ? `: ${p.error ?? 'unknown error'}` : '';
  return `resync run ${runId} group ${groupId}: ${p.phase}${numbers}${held}${error}\n`;
}

/** Members per group: how many remote contacts a read of an in-step group would bring. */
async function memberCounts(pool: pg.Pool, groupIds: string[]): Promise<Record<string, number>> {
  const res = await pool.query<{ group_id: string; n: number }>(
    `SELECT group_id, count(*)::int AS n FROM group_members WHERE group_id = ANY($1::text[])
     GROUP BY group_id`,
    [groupIds],
  );
  return Object.fromEntries(res.rows.map((r) => [r.group_id, r.n]));
}

/**
 * Polls a run until it is planned, done or failed, showing each group's phase (reading,
 * diffing, applying) as it goes: a bar per group on a terminal, plain lines otherwise (a line
 * when a phase changes, and at most every few seconds while it lasts). Returns the last run
 * seen: finished, or whatever it was when `signal` aborted.
 */
export async function followResync(
  pool: pg.Pool,
  runId: string,
  opts: FollowOptions,
): Promise<ResyncRun> {
  const pollMs = opts.pollMs ?? 500;
  let expected: Record<string, number> | null = null;
  const multi =
    opts.tty && !opts.quiet
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
  const since = Date.now();
  let hinted = false;
  try {
    for (;;) {
      const run = await checkResyncProgress(pool, runId);
      expected ??= await memberCounts(pool, run.groupIds);
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
        if (opts.quiet) continue;
        const line = plainLine(runId, groupId, p);
        const last = said.get(groupId);
        const samePhase = last?.line.startsWith(`resync run ${runId} group ${groupId}: ${p.phase}`);
        if (last?.line === line || (samePhase && Date.now() - (last?.at ?? 0) < 5_000)) continue;
        opts.out.write(line);
        said.set(groupId, { line, at: Date.now() });
      }
      const waiting = run.groupIds.every((g) => (run.progress[g]?.phase ?? 'queued') === 'queued');
      if (!hinted && waiting && !run.dryRun && Date.now() - since > QUEUED_HINT_MS) {
        hinted = true;
        const hint = `resync run ${runId}: no worker has taken it up yet; is the daemon running?\n`;
        if (multi) multi.log(hint);
        else if (!opts.quiet) opts.out.write(hint);
      }
      const finished = run.status !== 'planning' && run.status !== 'applying';
      if (finished || opts.signal?.aborted) return run;
      await new Promise((r) => setTimeout(r, pollMs));
    }
  } finally {
    multi?.stop();
  }
}
