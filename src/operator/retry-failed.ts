import type pg from 'pg';
import type { GroupQueue } from '../sync/group-queue.ts';
import { markFailedMembersDirty } from '../state/dirty-marks.ts';
import { markGroupsDirty } from '../state/group-state.ts';
import { assertGroupsKnown } from './unknown-group.ts';

export interface RetryResult {
  /** Failed members marked dirty again. */
  members: number;
  /** Failed groups marked dirty again (their reconcile runs again). */
  groups: number;
  /** Groups handed to the queue. */
  enqueued: string[];
}

export type RetryScope = { all: true } | { groupIds: string[] };

/**
 * Re-queues what failed, once the cause is fixed: failed members get a fresh dirty mark (a new
 * seq, so a run in progress cannot clear it), failed groups get `dirty = true` (a failed group
 * is skipped until then), and the groups are enqueued at once so a running daemon starts now.
 * The marks are committed before the enqueue: if Redis loses the job, the sweep still finds them.
 * Throws UnknownGroupError when a named group does not exist.
 */
export async function retryFailed(
  deps: { pool: pg.Pool; queue: GroupQueue },
  scope: RetryScope,
): Promise<RetryResult> {
  const groupIds = 'all' in scope ? null : [...new Set(scope.groupIds)];
  // An empty list names nothing: nothing to retry (the CLI refuses it before getting here).
  if (groupIds?.length === 0) return { members: 0, groups: 0, enqueued: [] };
  if (groupIds !== null) await assertGroupsKnown(deps.pool, groupIds);
  const client = await deps.pool.connect();
  let members: { groupId: string; count: number }[];
  let groups: string[];
  try {
    await client.query('BEGIN');
    members = await markFailedMembersDirty(client, groupIds);
    // A fresh dirty_seq: a run in progress (which read the old one) cannot clear the retry.
    groups = await markGroupsDirty(client, groupIds, 'failed');
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
  const enqueued = [...new Set([...members.map((m) => m.groupId), ...groups])].sort();
  await deps.queue.enqueue(enqueued, { now: true });
  const count = members.reduce((sum, m) => sum + m.count, 0);
  return { members: count, groups: groups.length, enqueued };
}
