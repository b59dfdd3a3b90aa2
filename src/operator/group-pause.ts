import type pg from 'pg';
import { pauseGroup, resumeGroup, type GroupPause } from '../state/group-pause.ts';
import type { GroupQueue } from '../sync/group-queue.ts';
import { assertGroupsKnown } from './unknown-group.ts';

export interface PauseResult {
  groupId: string;
  paused: true;
  pausedAt: string;
  pausedBy: string;
}

export interface ResumeResult {
  groupId: string;
  /** False when the group was not paused (it was queued anyway). */
  resumed: boolean;
  enqueued: boolean;
}

/**
 * Pauses a group: its runs stop sending anything for it (a run under way stops at its next
 * group load), and changes keep collecting as net dirty marks. Throws UnknownGroupError.
 */
export async function pauseGroupSync(
  deps: { pool: pg.Pool },
  groupId: string,
  pausedBy: string,
): Promise<PauseResult> {
  await assertGroupsKnown(deps.pool, [groupId]);
  const pause: GroupPause = await pauseGroup(deps.pool, groupId, pausedBy);
  return { groupId, paused: true, ...pause };
}

/**
 * Resumes a group and queues it now: the run sends what its marks say today, one call per
 * member at most, however many changes were made while it was paused.
 */
export async function resumeGroupSync(
  deps: { pool: pg.Pool; queue: Pick<GroupQueue, 'enqueue'> },
  groupId: string,
): Promise<ResumeResult> {
  await assertGroupsKnown(deps.pool, [groupId]);
  const resumed = await resumeGroup(deps.pool, groupId);
  await deps.queue.enqueue([groupId], { now: true });
  return { groupId, resumed, enqueued: true };
}
