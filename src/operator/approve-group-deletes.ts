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
 * seq, so a run already in progress (which read them before the approval) cannot clear them; a
 * held group deletion is marked dirty so the sweep finds it even if the job is lost; then the
 * group is enqueued. The approval lasts one guard window (DELETE_GUARD_WINDOW_MS).
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
  // A fresh dirty_seq: a run in progress cannot clear the flag the approval set.
  await markGroupsDirty(deps.pool, [groupId], 'held');
  await deps.queue.enqueue([groupId], { now: true });
  return { groupId, released, remarked, enqueued: true };
}
