import type pg from 'pg';
import type { GroupQueue } from '../sync/group-queue.ts';
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
  let members: { group_id: string; n: number }[];
  let groups: string[];
  try {
    await client.query('BEGIN');
    // Retried members count as live work: an operator is waiting for them.
    const marked = await client.query<{ group_id: string; n: number }>(
      `WITH marked AS (
         INSERT INTO sync_dirty AS d (group_id, contact_id, seq, bulk)
         SELECT group_id, contact_id, nextval('sync_dirty_seq'), false FROM sync_member_state
         WHERE status = 'failed' AND ($1::text[] IS NULL OR group_id = ANY($1))
         ORDER BY group_id, contact_id
         ON CONFLICT (group_id, contact_id) DO UPDATE SET seq = excluded.seq, marked_at = now()
         RETURNING d.group_id)
       SELECT group_id, count(*)::int AS n FROM marked GROUP BY group_id`,
      [groupIds],
    );
    const failedGroups = await client.query<{ group_id: string }>(
      `UPDATE sync_group_state SET dirty = true, updated_at = now()
       WHERE status = 'failed' AND ($1::text[] IS NULL OR group_id = ANY($1))
       RETURNING group_id`,
      [groupIds],
    );
    await client.query('COMMIT');
    members = marked.rows;
    groups = failedGroups.rows.map((r) => r.group_id);
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
  const enqueued = [...new Set([...members.map((m) => m.group_id), ...groups])].sort();
  await deps.queue.enqueue(enqueued, { now: true });
  const count = members.reduce((sum, m) => sum + m.n, 0);
  return { members: count, groups: groups.length, enqueued };
}
