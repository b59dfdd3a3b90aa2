import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import { checkConvergence, failing, type CheckResult } from './check.ts';
import type { EmulatorProcess } from './emulator-process.ts';
import type { SoakOperator } from './operator.ts';

export interface Backlog {
  outbox: number;
  dirty: number;
  dirtyGroups: number;
}

export async function backlog(pool: pg.Pool): Promise<Backlog> {
  const res = await pool.query<Backlog>(
    `SELECT (SELECT count(*) FROM sync_outbox)::int AS outbox,
            (SELECT count(*) FROM sync_dirty)::int AS dirty,
            (SELECT count(*) FROM sync_group_state WHERE dirty)::int AS "dirtyGroups"`,
  );
  return res.rows[0] ?? { outbox: -1, dirty: -1, dirtyGroups: -1 };
}

const isEmpty = (b: Backlog): boolean => b.outbox === 0 && b.dirty === 0 && b.dirtyGroups === 0;

export interface Convergence {
  converged: boolean;
  /** From the call to the first moment the backlog was empty and the check found nothing. */
  ms: number;
  /** From the call to the first moment nothing was left to sync (null: never). */
  drainedMs: number | null;
  checks: number;
  backlog: Backlog;
  last: CheckResult | null;
}

/**
 * Waits, at most `timeoutMs`, until nothing is left to sync and the emulator agrees with the
 * database. The full check runs only once the backlog is empty (it reads every group).
 */
export async function awaitConvergence(
  pool: pg.Pool,
  emulator: EmulatorProcess,
  operator: SoakOperator,
  opts: {
    timeoutMs: number;
    stuckMs: number;
    maxFieldLength: number;
    deletedGroupNames: string[];
    log: (s: string) => void;
  },
): Promise<Convergence> {
  const started = Date.now();
  let checks = 0;
  let last: CheckResult | null = null;
  let b: Backlog = { outbox: -1, dirty: -1, dirtyGroups: -1 };
  let lastLog = 0;
  let drainedMs: number | null = null;
  // Nothing left to sync yet the check keeps failing the same way: it will not converge.
  let stuck: { since: number; problems: number } | null = null;
  while (Date.now() - started < opts.timeoutMs) {
    await operator.tend();
    b = await backlog(pool).catch(() => b);
    if (isEmpty(b)) {
      drainedMs ??= Date.now() - started;
      last = await checkConvergence(pool, await emulator.state(), opts);
      checks++;
      const problems = failing(last);
      if (problems === 0) {
        return { converged: true, ms: Date.now() - started, drainedMs, checks, backlog: b, last };
      }
      const same = stuck !== null && stuck.problems === problems;
      if (!same) stuck = { since: Date.now(), problems };
      else if (stuck && Date.now() - stuck.since > opts.stuckMs) break;
    } else stuck = null;
    if (Date.now() - lastLog > 10_000) {
      lastLog = Date.now();
      const found = last ? `, last check: ${failing(last)} problems` : '';
      opts.log(
        `converging: outbox ${b.outbox}, dirty ${b.dirty}, dirty groups ${b.dirtyGroups}${found}`,
      );
    }
    await sleep(isEmpty(b) ? 2_000 : 1_000);
  }
  return { converged: false, ms: Date.now() - started, drainedMs, checks, backlog: b, last };
}
