import type pg from 'pg';
import { clearResyncRequest } from '../state/group-state.ts';
import { patchGroupProgress, readRun } from './resync-store.ts';
import type { AppliedCounts, GroupProgress, ResyncKind, ResyncRun } from './resync-types.ts';

/** What the database says about one group of a run being applied. */
interface GroupFacts {
  group_id: string;
  has_state: boolean;
  group_status: string | null;
  last_error: string | null;
  pending: string | null;
  remaining: number;
  held: boolean;
}

const FACTS_SQL = `
SELECT g.group_id, s.group_id IS NOT NULL AS has_state, s.status AS group_status, s.last_error,
       s.resync_run_id::text AS pending,
       (SELECT count(DISTINCT i.contact_id) FROM sync_resync_items i
        JOIN sync_dirty d ON d.group_id = i.group_id AND d.contact_id = i.contact_id
        WHERE i.run_id = $1 AND i.group_id = g.group_id
          AND i.kind IN ('add', 'modify', 'delete', 'duplicate'))::int AS remaining,
       EXISTS (SELECT 1 FROM sync_holds h
               WHERE h.group_id = g.group_id AND h.approved_at IS NULL) AS held
FROM unnest($2::text[]) AS g(group_id)
LEFT JOIN sync_group_state s ON s.group_id = g.group_id`;

// An add, modify or adopt landed when the member is known remotely and not failed; a delete
// when its state row is gone (the worker forgets a member once its remote contact is deleted).
const APPLIED_SQL = `
SELECT i.group_id, i.kind, count(*)::int AS total,
       count(*) FILTER (WHERE CASE
         WHEN i.kind IN ('delete', 'duplicate') THEN s.contact_id IS NULL
         WHEN i.kind IN ('add', 'modify', 'adopt') THEN s.status = 'synced' AND s.synced_fields IS NOT NULL
         ELSE true END)::int AS applied
FROM sync_resync_items i
LEFT JOIN sync_member_state s ON s.group_id = i.group_id AND s.contact_id = i.contact_id
WHERE i.run_id = $1 AND i.group_id = ANY($2::text[])
GROUP BY i.group_id, i.kind`;

/** The next phase of a group, from its recorded progress and the database's facts. */
function nextProgress(runId: string, p: GroupProgress, f: GroupFacts): GroupProgress {
  if (p.phase === 'done' || p.phase === 'failed') return p;
  if (!f.has_state) return { ...p, phase: 'failed', error: 'the group was deleted' };
  if (f.pending === runId) {
    // Not applied yet: a group that cannot be synced will not get to it.
    return f.group_status === 'failed'
      ? { ...p, phase: 'failed', error: f.last_error ?? 'the group failed to sync' }
      : p;
  }
  if (f.remaining === 0) return { ...p, phase: 'done', remaining: 0 };
  if (f.group_status === 'failed') {
    return { ...p, phase: 'failed', error: f.last_error ?? 'the group failed to sync' };
  }
  return { ...p, phase: f.held ? 'held' : 'applying', remaining: f.remaining };
}

/**
 * Brings a run's progress up to date and returns it. A group is done when no dirty mark of its
 * items remains; `held` while the mass-deletion guard holds its deletes (an operator approves);
 * failed when the group itself cannot be synced. When every group is done or failed, the run is
 * closed with what was applied. Safe to call from any number of followers at once.
 */
export async function checkResyncProgress(pool: pg.Pool, runId: string): Promise<ResyncRun> {
  const run = await readRun(pool, runId);
  if (!run) throw new Error(`no resync run ${runId}`);
  if (run.dryRun || run.status === 'planned' || run.status === 'done' || run.status === 'failed') {
    return run;
  }
  const facts = await pool.query<GroupFacts>(FACTS_SQL, [runId, run.groupIds]);
  for (const f of facts.rows) {
    const before = run.progress[f.group_id] ?? { phase: 'queued' };
    const after = nextProgress(runId, before, f);
    if (JSON.stringify(after) === JSON.stringify(before)) continue;
    if (after.phase === 'failed' && f.pending === runId) {
      await clearResyncRequest(pool, f.group_id, runId);
    }
    await patchGroupProgress(pool, runId, f.group_id, after);
    run.progress[f.group_id] = after;
  }
  const phases = run.groupIds.map((g) => run.progress[g]?.phase);
  if (phases.every((p) => p === 'done' || p === 'failed')) await closeRun(pool, run);
  return (await readRun(pool, runId)) as ResyncRun;
}

/** Records what each applied group's items did, and ends the run (once, whoever gets there). */
async function closeRun(pool: pg.Pool, run: ResyncRun): Promise<void> {
  const appliedGroups = run.groupIds.filter((g) => run.progress[g]?.phase === 'done');
  const res = await pool.query<{
    group_id: string;
    kind: ResyncKind;
    total: number;
    applied: number;
  }>(APPLIED_SQL, [run.id, appliedGroups]);
  const applied: Record<string, AppliedCounts> = {};
  for (const g of appliedGroups) applied[g] = { applied: {}, failed: {} };
  for (const r of res.rows) {
    const entry = applied[r.group_id];
    if (!entry) continue;
    if (r.applied > 0) entry.applied[r.kind] = r.applied;
    if (r.total > r.applied) entry.failed[r.kind] = r.total - r.applied;
  }
  const failed = run.groupIds.some((g) => run.progress[g]?.phase === 'failed');
  await pool.query(
    `UPDATE sync_resync_runs SET status = $2, applied = $3, finished_at = now()
     WHERE id = $1 AND status IN ('planning', 'applying')`,
    [run.id, failed ? 'failed' : 'done', JSON.stringify(applied)],
  );
}
