import type pg from 'pg';
import { approveDeletes } from '../sync/delete-guard.ts';
import type { GroupQueue } from '../sync/group-queue.ts';
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
  const remarked = await deps.pool.query(
    `UPDATE sync_dirty SET seq = nextval('sync_dirty_seq'), marked_at = now() WHERE group_id = $1`,
    [groupId],
  );
  await deps.pool.query(
    `UPDATE sync_group_state SET dirty = true, updated_at = now() WHERE group_id = $1 AND status = 'held'`,
    [groupId],
  );
  await deps.queue.enqueue([groupId], { now: true });
  return { groupId, released, remarked: remarked.rowCount ?? 0, enqueued: true };
}
