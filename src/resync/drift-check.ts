import { nextDriftCheck, type DriftSchedule } from './drift-schedule.ts';
import type { KindCounts } from './resync-types.ts';
import { startResync, type ResyncServices } from './start-resync.ts';

/** Drift of one group as a drift check measures it, in members. */
export interface GroupDrift {
  /** Members Afilnet lacks (the plan adds them). */
  missing: number;
  /** Remote contacts no member accounts for, and duplicates (the plan deletes them). */
  unexpected: number;
  /** Remote contacts whose values or ids differ from what was synced (modify, adopt). */
  stale: number;
}

export interface DriftCheckDeps extends ResyncServices {
  /** Groups whose drift is at most this many members are repaired without an operator. */
  autoApplyMax: number;
  /** Exports a group's drift (afilnet_sync_drift_members{group,kind}). */
  report: (groupId: string, drift: GroupDrift) => void;
}

/** What one drift check found and did. */
export interface DriftCheckResult {
  runId: string | null;
  drift: Record<string, GroupDrift>;
  /** Groups whose plan was applied automatically; the others wait for an operator's resync. */
  applied: string[];
}

/** The drift a plan's counts describe. */
export function driftOf(counts: KindCounts): GroupDrift {
  const n = (k: keyof KindCounts) => counts[k] ?? 0;
  return {
    missing: n('add'),
    unexpected: n('delete') + n('duplicate'),
    stale: n('modify') + n('adopt'),
  };
}

/**
 * One drift check: a dry-run resync of every group that has a remote group and is free (not
 * paused, no resync pending), its reads at bulk priority behind live changes; the drift exported
 * per group; then, for each group whose drift is small enough, the plan applied as an ordinary
 * resync. A larger drift waits for an operator (`resync --group`), as a mass change should.
 */
export async function runDriftCheck(deps: DriftCheckDeps): Promise<DriftCheckResult> {
  const free = await deps.pool.query<{ id: string }>(
    `SELECT g.id FROM groups g JOIN sync_group_state s ON s.group_id = g.id
     WHERE s.remote_id IS NOT NULL AND s.paused_at IS NULL AND s.resync_run_id IS NULL
       AND (g.afilnet_id IS NULL OR g.afilnet_id = s.remote_id)
     ORDER BY g.id`,
  );
  const groups = free.rows.map((r) => r.id);
  if (groups.length === 0) return { runId: null, drift: {}, applied: [] };
  const run = await startResync(deps, { groups, dryRun: true, startedBy: 'drift-check' });
  const drift: Record<string, GroupDrift> = {};
  const applied: string[] = [];
  for (const groupId of run.groupIds) {
    if (run.progress[groupId]?.phase === 'failed') continue;
    const d = driftOf(run.counts[groupId] ?? {});
    drift[groupId] = d;
    deps.report(groupId, d);
    const size = d.missing + d.unexpected + d.stale;
    if (size === 0) continue;
    if (size > deps.autoApplyMax) {
      deps.logger.warn(
        { groupId, drift: d, runId: run.id, autoApplyMax: deps.autoApplyMax },
        'drift above DRIFT_AUTO_APPLY_MAX: waiting for an operator (resync --group)',
      );
      continue;
    }
    await startResync(deps, { groups: [groupId], dryRun: false, startedBy: 'drift-check' });
    applied.push(groupId);
  }
  return { runId: run.id, drift, applied };
}

export interface RunningDriftChecks {
  stop(): Promise<void>;
}

/**
 * Runs drift checks on `schedule` until stopped. A failed check is logged and the schedule goes
 * on; a check never overlaps the next (the next is timed from the end of the last).
 */
export function startDriftChecks(
  deps: DriftCheckDeps,
  schedule: DriftSchedule,
): RunningDriftChecks {
  let stopped = false;
  let current: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  const plan = () => {
    if (stopped) return;
    const wait = Math.max(0, nextDriftCheck(schedule, Date.now()) - Date.now());
    // Node's timers hold at most 2^31 - 1 ms: a longer wait is taken in steps.
    timer = setTimeout(tick, Math.min(wait, 2 ** 31 - 1), wait).unref();
  };
  const tick = (wait: number) => {
    if (wait > 2 ** 31 - 1) return plan();
    current = runDriftCheck(deps).then(
      (r) => deps.logger.info({ runId: r.runId, applied: r.applied }, 'drift check done'),
      (err: unknown) => deps.logger.warn({ err }, 'drift check failed; trying at the next one'),
    );
    void current.finally(plan);
  };
  plan();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await current;
    },
  };
}
