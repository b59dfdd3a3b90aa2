import type pg from 'pg';

/**
 * Statements that make sync_member_state say what Afilnet really holds, from `resync_diff`, so
 * the worker's ordinary planner then issues exactly the calls that repair the drift. Each acts on
 * one slice of the diff: $1 is the group id, $2 and $3 the first and last contact id of the
 * slice (inclusive), $4 (in the first two) the lineage note (`resync run <id>`). Every statement
 * only ever sets a row to what the diff says, so applying a slice twice leaves the same state.
 */
const CORRECTIONS = [
  // Matched members, and the rows that will delete unmatched remote contacts: the remote id and
  // values as read. The planner then modifies only where the member's values differ, and
  // deletes every row that names no member (through the mass-deletion guard).
  `INSERT INTO sync_member_state AS s (group_id, contact_id, remote_id, synced_fields, main_value,
     uncertain, status, last_method, last_call_at, last_result, updated_at)
   SELECT $1, contact_id, remote_id, rfields, main, false, 'synced', 'getcontacts', now(), $4, now()
   FROM resync_diff WHERE role IN ('pair', 'orphan', 'extra') AND contact_id BETWEEN $2 AND $3
   ON CONFLICT (group_id, contact_id) DO UPDATE SET
     remote_id = excluded.remote_id, synced_fields = excluded.synced_fields,
     main_value = excluded.main_value, uncertain = false, last_method = excluded.last_method,
     last_call_at = excluded.last_call_at, last_result = excluded.last_result, updated_at = now()`,
  // Members Afilnet does not hold, and members that cannot be matched (no main value, or a second
  // member with the same one): known not to be remote, so the planner adds (or refuses) them;
  // opted-out ones are not remote either, and the planner leaves them alone.
  `UPDATE sync_member_state s
   SET remote_id = NULL, synced_fields = NULL, uncertain = false, last_result = $4, updated_at = now()
   FROM resync_diff d
   WHERE s.group_id = $1 AND s.contact_id = d.contact_id AND d.contact_id BETWEEN $2 AND $3
     AND (d.role IN ('missing', 'opt_out') OR (d.role = 'stale' AND d.is_member))`,
  // Rows of former members whose remote contact is gone: nothing is left to do for them.
  `DELETE FROM sync_dirty x USING resync_diff d
   WHERE x.group_id = $1 AND x.contact_id = d.contact_id AND d.contact_id BETWEEN $2 AND $3
     AND d.role = 'stale' AND NOT d.is_member`,
  `DELETE FROM sync_member_state s USING resync_diff d
   WHERE s.group_id = $1 AND s.contact_id = d.contact_id AND d.contact_id BETWEEN $2 AND $3
     AND d.role = 'stale' AND NOT d.is_member`,
];

/**
 * Bulk dirty marks for exactly the members of the slice that need a call. A live mark already
 * there stays live (bulk is not touched on conflict); its seq moves on, as any re-made mark's does.
 */
const MARK_DIRTY = `
INSERT INTO sync_dirty (group_id, contact_id, seq, bulk)
SELECT $1, contact_id, nextval('sync_dirty_seq'), true FROM (
  SELECT DISTINCT contact_id FROM resync_diff
  WHERE contact_id BETWEEN $2 AND $3
    AND (role IN ('missing', 'orphan', 'extra')
         OR (role = 'pair' AND lfields IS DISTINCT FROM rfields))
  ORDER BY contact_id) m
ON CONFLICT (group_id, contact_id) DO UPDATE SET seq = excluded.seq, marked_at = now()`;

/** One slice of `resync_diff`: the members whose contact id lies from `first` to `last`. */
export interface DiffSlice {
  first: string;
  last: string;
}

/**
 * Applies one slice of a diff to the group's sync state inside the caller's transaction:
 * corrects what each member's state believes and marks the members that need a call. Returns
 * how many were marked.
 */
export async function correctSlice(
  client: pg.PoolClient,
  groupId: string,
  runId: string,
  slice: DiffSlice,
): Promise<number> {
  const note = `resync run ${runId}`;
  const range = [groupId, slice.first, slice.last];
  for (const sql of CORRECTIONS) {
    await client.query(sql, sql.includes('$4') ? [...range, note] : range);
  }
  const marked = await client.query(MARK_DIRTY, range);
  return marked.rowCount ?? 0;
}

/** Records the group's columns as now made equal to the remote group's. */
export async function recordResyncedColumns(
  client: pg.PoolClient,
  groupId: string,
  columns: readonly string[],
): Promise<void> {
  await client.query(
    `UPDATE sync_group_state SET synced_fields = $2, updated_at = now()
     WHERE group_id = $1 AND synced_fields IS DISTINCT FROM $2`,
    [groupId, columns],
  );
}
