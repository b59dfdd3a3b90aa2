import type pg from 'pg';

/** An operator named a group that neither the database nor the sync state knows. */
export class UnknownGroupError extends Error {
  override name = 'UnknownGroupError';
  constructor(readonly groupIds: string[]) {
    super(
      groupIds.length === 1
        ? `No group "${groupIds[0] ?? ''}": it is neither in groups nor in the sync state`
        : `No groups ${groupIds.map((id) => `"${id}"`).join(', ')}: they are neither in groups nor in the sync state`,
    );
  }
}

/**
 * Throws UnknownGroupError for ids that are not groups. A group deleted locally still counts
 * while its sync state or a hold remains: that is exactly when an operator may need to approve
 * its remote deletion or retry it.
 */
export async function assertGroupsKnown(pool: pg.Pool, groupIds: readonly string[]): Promise<void> {
  if (groupIds.length === 0) return;
  const res = await pool.query<{ id: string }>(
    `SELECT x.id FROM unnest($1::text[]) AS x(id)
     WHERE NOT EXISTS (SELECT 1 FROM groups g WHERE g.id = x.id)
       AND NOT EXISTS (SELECT 1 FROM sync_group_state s WHERE s.group_id = x.id)
       AND NOT EXISTS (SELECT 1 FROM sync_holds h WHERE h.group_id = x.id)`,
    [[...new Set(groupIds)]],
  );
  if (res.rows.length > 0) throw new UnknownGroupError(res.rows.map((r) => r.id));
}
