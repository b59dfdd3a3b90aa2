import type { GroupStatus, StatusReport } from './status-report.ts';

/** Changes waiting longer than this make `status` unhealthy (overridable with --max-lag). */
export const DEFAULT_MAX_LAG_MS = 15 * 60_000;

export interface StatusHealth {
  healthy: boolean;
  /** One line for people: "OK: …" or "UNHEALTHY: …", what needs attention after it. */
  verdict: string;
  /** What makes it unhealthy; empty when healthy. */
  problems: string[];
  /** What an operator should look at, without the sync being stuck. */
  attention: string[];
}

/** A group an operator should look at: not in step, failing members, or deletes held. */
export function groupHasProblems(g: GroupStatus): boolean {
  return (
    !g.exists ||
    (g.status ?? 'ok') !== 'ok' ||
    g.failed > 0 ||
    g.heldDeletes > 0 ||
    g.orphanNote !== null
  );
}

const count = (n: number, noun: string) => `${n} ${noun}${n === 1 ? '' : 's'}`;
const minutes = (ms: number) =>
  ms < 120_000 ? `${Math.round(ms / 1000)} s` : `${Math.round(ms / 60_000)} min`;

/**
 * The verdict on a status report, for `groups` (the report's, or the ones asked about). Unhealthy:
 * no daemon runs, a group failed, or changes wait longer than `maxLagMs`. Failing members and held
 * deletes need an operator but do not stop the sync, so they are attention, not problems.
 */
export function judgeStatus(
  report: StatusReport,
  groups: readonly GroupStatus[],
  opts: { maxLagMs?: number } = {},
): StatusHealth {
  const maxLag = opts.maxLagMs ?? DEFAULT_MAX_LAG_MS;
  const problems: string[] = [];
  const attention: string[] = [];
  if (report.daemons?.workers === 0) problems.push('no daemon is running');
  if (report.accountPause) {
    problems.push(
      `account paused: ${report.accountPause.reason} (resumes by itself once Afilnet answers)`,
    );
  }
  const failed = groups.filter((g) => g.status === 'failed').map((g) => g.id);
  if (failed.length > 0)
    problems.push(`${count(failed.length, 'group')} failed (${failed.join(', ')})`);
  const lag = Math.max(report.lag.oldestDirtyAgeMs ?? 0, report.lag.oldestOutboxAgeMs ?? 0);
  if (lag > maxLag) {
    problems.push(`oldest unsynced change ${minutes(lag)} old (more than ${minutes(maxLag)})`);
  }
  const failing = groups.reduce((n, g) => n + g.failed, 0);
  if (failing > 0) attention.push(`${count(failing, 'member')} failing (see errors)`);
  const held = groups.reduce((n, g) => n + g.heldDeletes, 0);
  if (held > 0) attention.push(`${count(held, 'delete')} held (see approve-deletes)`);
  const orphans = groups.filter((g) => g.orphanNote !== null).map((g) => g.id);
  if (orphans.length > 0) {
    attention.push(`possible orphan remote group for ${orphans.join(', ')} (see status --group)`);
  }
  const healthy = problems.length === 0;
  const members = groups.reduce((n, g) => n + g.members, 0);
  const synced = groups.reduce((n, g) => n + g.synced, 0);
  const summary = healthy
    ? `OK: ${count(groups.length, 'group')}, ${synced} of ${count(members, 'member')} synced` +
      (report.daemons ? `, ${count(report.daemons.workers, 'worker')} running` : '')
    : `UNHEALTHY: ${problems.join('; ')}`;
  const verdict = attention.length > 0 ? `${summary}; ${attention.join('; ')}` : summary;
  return { healthy, verdict, problems, attention };
}
