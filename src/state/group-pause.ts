import type { Queryable } from './queryable.ts';

/** A group paused by an operator: since when, and by whom. */
export interface GroupPause {
  pausedAt: string;
  pausedBy: string;
}

/**
 * Pauses a group: its runs skip it (members and group calls) while its dirty marks and dirty
 * flag stay, so a resume sends the net change made meanwhile. Pausing again keeps the first
 * date. Returns the pause in force.
 */
export async function pauseGroup(db: Queryable, groupId: string, by: string): Promise<GroupPause> {
  const res = await db.query<{ paused_at: Date; paused_by: string }>(
    `INSERT INTO sync_group_state AS s (group_id, dirty, paused_at, paused_by)
     VALUES ($1, true, now(), $2)
     ON CONFLICT (group_id) DO UPDATE
       SET paused_at = COALESCE(s.paused_at, now()), paused_by = COALESCE(s.paused_by, $2),
           updated_at = now()
     RETURNING paused_at, paused_by`,
    [groupId, by],
  );
  const r = res.rows[0];
  if (!r) throw new Error('unreachable: the upsert returns its row');
  return { pausedAt: r.paused_at.toISOString(), pausedBy: r.paused_by };
}

/** Resumes a group; returns false when it was not paused. */
export async function resumeGroup(db: Queryable, groupId: string): Promise<boolean> {
  const res = await db.query(
    `UPDATE sync_group_state SET paused_at = NULL, paused_by = NULL, updated_at = now()
     WHERE group_id = $1 AND paused_at IS NOT NULL`,
    [groupId],
  );
  return (res.rowCount ?? 0) > 0;
}

/** Whether a group is paused now. */
export async function isGroupPaused(db: Queryable, groupId: string): Promise<boolean> {
  const res = await db.query<{ paused: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM sync_group_state WHERE group_id = $1 AND paused_at IS NOT NULL)
       AS paused`,
    [groupId],
  );
  return res.rows[0]?.paused ?? false;
}
