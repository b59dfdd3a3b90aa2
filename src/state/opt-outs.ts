import type { Queryable } from './queryable.ts';
import { markMembersDirty } from './dirty-marks.ts';

/** One member removed in Afilnet that the daemon will not re-add (REMOTE_REMOVALS=respect). */
export interface OptOut {
  groupId: string;
  contactId: string;
  mainValue: string | null;
  detectedAt: string;
  /** resync, drift-check or modifycontact (answered NOT_ACCESS_TO_CONTACT). */
  source: string;
}

/**
 * Records members as opted out. The first detection is kept (its date is what a CRM reads), so
 * seeing the same removal again changes nothing.
 */
export async function recordOptOuts(
  db: Queryable,
  groupId: string,
  members: readonly { contactId: string; main: string | null }[],
  source: string,
): Promise<number> {
  if (members.length === 0) return 0;
  const res = await db.query(
    `INSERT INTO sync_opt_outs (group_id, contact_id, main_value, source)
     SELECT $1, contact_id, main, $4 FROM unnest($2::text[], $3::text[]) AS x(contact_id, main)
     ORDER BY contact_id
     ON CONFLICT (group_id, contact_id) DO NOTHING`,
    [groupId, members.map((m) => m.contactId), members.map((m) => m.main), source],
  );
  return res.rowCount ?? 0;
}

/** Opt-outs, oldest first, of one group or of all. */
export async function listOptOuts(db: Queryable, groupId: string | null): Promise<OptOut[]> {
  const res = await db.query<{
    group_id: string;
    contact_id: string;
    main_value: string | null;
    detected_at: Date;
    source: string;
  }>(
    `SELECT group_id, contact_id, main_value, detected_at, source FROM sync_opt_outs
     WHERE $1::text IS NULL OR group_id = $1 ORDER BY detected_at, group_id, contact_id`,
    [groupId],
  );
  return res.rows.map((r) => ({
    groupId: r.group_id,
    contactId: r.contact_id,
    mainValue: r.main_value,
    detectedAt: r.detected_at.toISOString(),
    source: r.source,
  }));
}

/**
 * Clears one opt-out and marks the member dirty (live: an operator is waiting), so the next run
 * adds it again if it is still a member. Returns false when there was no such opt-out.
 */
export async function clearOptOut(
  db: Queryable,
  groupId: string,
  contactId: string,
): Promise<boolean> {
  const res = await db.query('DELETE FROM sync_opt_outs WHERE group_id = $1 AND contact_id = $2', [
    groupId,
    contactId,
  ]);
  if ((res.rowCount ?? 0) === 0) return false;
  await markMembersDirty(db, groupId, [contactId], { live: true });
  return true;
}
