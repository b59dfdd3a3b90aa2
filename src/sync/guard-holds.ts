import type { Queryable } from '../state/queryable.ts';

/** What a hold covers: member deletes, the group's deletion, or one column (`subject`). */
export type HoldKind = 'deletes' | 'deletegroup' | 'delete_column';
export interface HoldScope {
  kind: HoldKind;
  subject: string | null;
}

const SAME_SCOPE = 'group_id = $1 AND kind = $2 AND subject IS NOT DISTINCT FROM $3';

/**
 * Records a hold, or updates the open one of the same scope (one open hold per scope, so
 * `approve-deletes` reviews the latest count).
 */
export async function recordHold(
  db: Queryable,
  groupId: string,
  scope: HoldScope,
  count: number,
  reason: string,
): Promise<void> {
  const args = [groupId, scope.kind, scope.subject, count, reason];
  const updated = await db.query(
    `UPDATE sync_holds SET count = $4, reason = $5 WHERE ${SAME_SCOPE} AND approved_at IS NULL`,
    args,
  );
  if (updated.rowCount === 0) {
    await db.query(
      'INSERT INTO sync_holds (group_id, kind, subject, count, reason) VALUES ($1, $2, $3, $4, $5)',
      args,
    );
  }
}

/** The count of the open hold of this scope, or null when none waits. */
export async function openHoldCount(
  db: Queryable,
  groupId: string,
  scope: HoldScope,
): Promise<number | null> {
  const res = await db.query<{ count: number }>(
    `SELECT count FROM sync_holds WHERE ${SAME_SCOPE} AND approved_at IS NULL LIMIT 1`,
    [groupId, scope.kind, scope.subject],
  );
  return res.rows[0]?.count ?? null;
}

/**
 * Uses an approval: `n` of the member deletes an approved hold still allows (the approval lapses
 * once unused for `windowMs`), or, with `n` null, the whole of an approved deletegroup or column
 * delete. One statement, so two runs can never spend the same allowance. True when taken.
 */
export async function takeApproval(
  db: Queryable,
  groupId: string,
  scope: HoldScope,
  n: number | null,
  windowMs: number,
): Promise<boolean> {
  const res = await db.query(
    `UPDATE sync_holds SET used = CASE WHEN $4::int IS NULL THEN count ELSE used + $4::int END,
       used_at = now()
     WHERE id = (
       SELECT id FROM sync_holds
       WHERE ${SAME_SCOPE} AND approved_at IS NOT NULL AND used < count
         AND ($4::int IS NULL OR (count - used >= $4::int
              AND COALESCE(used_at, approved_at) > now() - $5 * interval '1 millisecond'))
       ORDER BY approved_at DESC, id DESC LIMIT 1 FOR UPDATE)
     RETURNING id`,
    [groupId, scope.kind, scope.subject, n, windowMs],
  );
  return (res.rowCount ?? 0) > 0;
}

/** True when an approved hold of this scope (a deletegroup, a column) is not used yet. */
export async function approvedUnused(
  db: Queryable,
  groupId: string,
  scope: HoldScope,
): Promise<boolean> {
  const res = await db.query(
    `SELECT 1 FROM sync_holds WHERE ${SAME_SCOPE} AND approved_at IS NOT NULL AND used < count LIMIT 1`,
    [groupId, scope.kind, scope.subject],
  );
  return (res.rowCount ?? 0) > 0;
}

/** Approves every open hold of a group; returns how many were released. */
export async function approveHolds(
  db: Queryable,
  groupId: string,
  approvedBy: string,
): Promise<number> {
  const res = await db.query(
    `UPDATE sync_holds SET approved_at = now(), approved_by = $2 WHERE group_id = $1 AND approved_at IS NULL`,
    [groupId, approvedBy],
  );
  return res.rowCount ?? 0;
}
