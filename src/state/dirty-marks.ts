import type { FieldValues } from '../planner/project-fields.ts';
import type { MemberSnapshot } from '../planner/plan-member-sync.ts';
import type { Queryable } from './queryable.ts';

/**
 * Dirty marks (`sync_dirty`) say "this member of this group may differ from Afilnet". Every
 * writer makes them through this module, with one rule: a mark made or re-made takes a fresh
 * `seq` from `sync_dirty_seq`, and a worker clears only a mark whose seq it read, so a change
 * that arrives while a run is busy with the member is never cleared by that run.
 */

export interface DirtyMember extends MemberSnapshot {
  seq: string;
  bulk: boolean;
  status: string | null;
}

/** Where a run has got to in a group's marks: live and bulk marks are read in seq order. */
export interface MarkCursor {
  liveSeq: string;
  bulkSeq: string;
}

export const START_CURSOR: MarkCursor = { liveSeq: '0', bulkSeq: '0' };

/** The cursor after a page: past every mark the page held. */
export function advanceCursor(cursor: MarkCursor, page: readonly DirtyMember[]): MarkCursor {
  let { liveSeq, bulkSeq } = cursor;
  for (const row of page) {
    if (row.bulk) bulkSeq = BigInt(row.seq) > BigInt(bulkSeq) ? row.seq : bulkSeq;
    else liveSeq = BigInt(row.seq) > BigInt(liveSeq) ? row.seq : liveSeq;
  }
  return { liveSeq, bulkSeq };
}

/**
 * Reads the next page of a group's dirty members past `cursor` (live before bulk), each with its
 * contact's current values (null when no longer a member) and what was last synced. The marks are
 * found through their index first and only then joined, so the plan stays an index range scan
 * whatever the statistics say (a million marks written a moment ago included).
 */
export async function loadDirtyMembers(
  db: Queryable,
  groupId: string,
  limit: number,
  cursor: MarkCursor = START_CURSOR,
): Promise<DirtyMember[]> {
  const res = await db.query<{
    contact_id: string;
    seq: string;
    bulk: boolean;
    is_member: boolean;
    mobile: string | null;
    email: string | null;
    attributes: unknown;
    remote_id: string | null;
    synced_fields: FieldValues | null;
    main_value: string | null;
    uncertain: boolean | null;
    status: string | null;
    opted_out: boolean;
  }>(
    `WITH page AS MATERIALIZED (
       (SELECT contact_id, seq, bulk FROM sync_dirty
        WHERE group_id = $1 AND bulk = false AND seq > $3::bigint ORDER BY seq LIMIT $2)
       UNION ALL
       (SELECT contact_id, seq, bulk FROM sync_dirty
        WHERE group_id = $1 AND bulk = true AND seq > $4::bigint ORDER BY seq LIMIT $2)
       ORDER BY bulk, seq LIMIT $2)
     SELECT d.contact_id, d.seq::text AS seq, d.bulk, c.id IS NOT NULL AS is_member,
            c.mobile, c.email, c.attributes,
            s.remote_id, s.synced_fields, s.main_value, s.uncertain, s.status,
            EXISTS (SELECT 1 FROM sync_opt_outs o WHERE o.group_id = $1
                    AND o.contact_id = d.contact_id) AS opted_out
     FROM page d
     LEFT JOIN group_members gm ON gm.group_id = $1 AND gm.contact_id = d.contact_id
     LEFT JOIN contacts c ON c.id = gm.contact_id
     LEFT JOIN sync_member_state s ON s.group_id = $1 AND s.contact_id = d.contact_id
     ORDER BY d.bulk, d.seq`,
    [groupId, limit, cursor.liveSeq, cursor.bulkSeq],
  );
  return res.rows.map((r) => ({
    contactId: r.contact_id,
    seq: r.seq,
    bulk: r.bulk,
    status: r.status,
    contact: r.is_member ? { mobile: r.mobile, email: r.email, attributes: r.attributes } : null,
    remoteId: r.remote_id,
    syncedFields: r.synced_fields,
    mainValue: r.main_value,
    uncertain: r.uncertain ?? false,
    optedOut: r.opted_out,
  }));
}

/** Clears dirty marks, but only those not re-made since they were read (same seq). */
export async function clearMarks(
  db: Queryable,
  groupId: string,
  done: readonly { contactId: string; seq: string }[],
): Promise<void> {
  if (done.length === 0) return;
  await db.query(
    `DELETE FROM sync_dirty d USING unnest($2::text[], $3::bigint[]) AS x(contact_id, seq)
     WHERE d.group_id = $1 AND d.contact_id = x.contact_id AND d.seq = x.seq`,
    [groupId, done.map((d) => d.contactId), done.map((d) => d.seq)],
  );
}

/**
 * Marks members dirty (all of the group's members when `contactIds` is null), as bulk work
 * unless `live`. A live mark already there stays live.
 */
export async function markMembersDirty(
  db: Queryable,
  groupId: string,
  contactIds: readonly string[] | null,
  opts: { live?: boolean } = {},
): Promise<number> {
  const live = opts.live ?? false;
  const res = await db.query(
    `INSERT INTO sync_dirty AS d (group_id, contact_id, seq, bulk)
     SELECT $1, contact_id, nextval('sync_dirty_seq'), NOT $3 FROM (
       SELECT contact_id FROM group_members WHERE group_id = $1 AND $2::text[] IS NULL
       UNION SELECT unnest($2::text[])
       ORDER BY 1) m
     ON CONFLICT (group_id, contact_id) DO UPDATE
       SET seq = excluded.seq, marked_at = now(), bulk = d.bulk AND excluded.bulk`,
    [groupId, contactIds, live],
  );
  return res.rowCount ?? 0;
}

/** Gives every mark of a group a fresh seq, so a run that read them before cannot clear them. */
export async function remarkGroup(db: Queryable, groupId: string): Promise<number> {
  const res = await db.query(
    `UPDATE sync_dirty SET seq = nextval('sync_dirty_seq'), marked_at = now() WHERE group_id = $1`,
    [groupId],
  );
  return res.rowCount ?? 0;
}

/**
 * Marks failed members dirty again (live: an operator is waiting), in the named groups or all.
 * Returns how many per group.
 */
export async function markFailedMembersDirty(
  db: Queryable,
  groupIds: readonly string[] | null,
): Promise<{ groupId: string; count: number }[]> {
  const res = await db.query<{ group_id: string; n: number }>(
    `WITH marked AS (
       INSERT INTO sync_dirty AS d (group_id, contact_id, seq, bulk)
       SELECT group_id, contact_id, nextval('sync_dirty_seq'), false FROM sync_member_state
       WHERE status = 'failed' AND ($1::text[] IS NULL OR group_id = ANY($1))
       ORDER BY group_id, contact_id
       ON CONFLICT (group_id, contact_id) DO UPDATE
         SET seq = excluded.seq, bulk = false, marked_at = now()
       RETURNING d.group_id)
     SELECT group_id, count(*)::int AS n FROM marked GROUP BY group_id`,
    [groupIds],
  );
  return res.rows.map((r) => ({ groupId: r.group_id, count: r.n }));
}

/** Groups with marks or a dirty flag older than `ageMs` (a lost job, a crash after commit). */
export async function staleDirtyGroups(db: Queryable, ageMs: number): Promise<string[]> {
  const res = await db.query<{ group_id: string }>(
    `SELECT DISTINCT group_id FROM sync_dirty WHERE marked_at < now() - $1 * interval '1 millisecond'
     UNION SELECT group_id FROM sync_group_state WHERE dirty AND updated_at < now() - $1 * interval '1 millisecond'
     EXCEPT SELECT group_id FROM sync_group_state WHERE paused_at IS NOT NULL`,
    [ageMs],
  );
  return res.rows.map((r) => r.group_id);
}

/** What a batch of captured changes names. */
export interface CapturedChanges {
  /** Memberships inserted or deleted (pairs, in two arrays of one length). */
  members: { groupIds: string[]; contactIds: string[] };
  /** Contacts whose values changed: every membership of theirs. */
  contactIds: string[];
  /** Group rows inserted, changed or deleted. */
  groupIds: string[];
}

/**
 * The relay's marks, in the caller's transaction: a live mark per member touched (made or re-made
 * with a fresh seq), and the group flag with a fresh dirty_seq per group touched. Returns the
 * groups that now have work.
 */
export async function markCapturedChanges(
  db: Queryable,
  changes: CapturedChanges,
): Promise<string[]> {
  const res = await db.query<{ groups: string[] }>(
    `WITH members AS (
       SELECT group_id, contact_id FROM unnest($1::text[], $2::text[]) AS m(group_id, contact_id)
       UNION
       SELECT gm.group_id, gm.contact_id FROM group_members gm WHERE gm.contact_id = ANY($3::text[])
     ), marked AS (
       INSERT INTO sync_dirty AS d (group_id, contact_id, seq)
       SELECT group_id, contact_id, nextval('sync_dirty_seq') FROM members ORDER BY group_id, contact_id
       ON CONFLICT (group_id, contact_id)
       DO UPDATE SET seq = excluded.seq, bulk = false, marked_at = now()
       RETURNING d.group_id
     ), touched_groups AS (
       INSERT INTO sync_group_state AS s (group_id, dirty, dirty_seq)
       SELECT group_id, true, nextval('sync_dirty_seq')
       FROM (SELECT DISTINCT unnest($4::text[]) AS group_id) g ORDER BY group_id
       ON CONFLICT (group_id) DO UPDATE SET dirty = true, dirty_seq = excluded.dirty_seq, updated_at = now()
       RETURNING s.group_id
     )
     SELECT ARRAY(SELECT group_id FROM marked UNION SELECT group_id FROM touched_groups) AS groups`,
    [changes.members.groupIds, changes.members.contactIds, changes.contactIds, changes.groupIds],
  );
  return res.rows[0]?.groups ?? [];
}
