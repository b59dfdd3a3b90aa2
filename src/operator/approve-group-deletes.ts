import type pg from 'pg';
import { approveDeletes } from '../sync/delete-guard.ts';
import type { GroupQueue } from '../sync/group-queue.ts';
import { remarkGroup } from '../state/dirty-marks.ts';
import { markGroupsDirty } from '../state/group-state.ts';
import { assertGroupsKnown } from './unknown-group.ts';

export interface ApproveResult {
  groupId: string;
  /** Open holds approved; 0 when there was nothing to approve. */
  released: number;
  /** Dirty marks of the group given a fresh seq. */
  remarked: number;
  enqueued: boolean;
}

/**
 * Releases a group's held deletes and gets them made now. The remaining dirty marks get a fresh
 * seq, so a run already in progress (which read them before the approval) cannot clear them; the
 * group is marked dirty so the sweep finds a held deletegroup or column delete even if the job is
 * lost; then the group is enqueued. The approval admits what each hold covered: up to its count
 * of member deletes (unused for DELETE_GUARD_WINDOW_MS, it lapses), its deletegroup, its column.
 * Throws UnknownGroupError when the group is unknown.
 */
export async function approveGroupDeletes(
  deps: { pool: pg.Pool; queue: GroupQueue },
  groupId: string,
  approvedBy: string,
): Promise<ApproveResult> {
  await assertGroupsKnown(deps.pool, [groupId]);
  const released = await approveDeletes(deps.pool, groupId, approvedBy);
  const remarked = await remarkGroup(deps.pool, groupId);
  // A fresh dirty_seq: a run in progress cannot clear the flag the approval set. A released
  // column delete is made by the group's own reconcile, so the group runs again whatever its
  // status says.
  await markGroupsDirty(deps.pool, [groupId], released > 0 ? 'any' : 'held');
  await deps.queue.enqueue([groupId], { now: true });
  return { groupId, released, remarked, enqueued: true };
}
