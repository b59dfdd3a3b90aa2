import type { FieldValues } from '../planner/project-fields.ts';
import type { Queryable } from './queryable.ts';

export interface StateWrite {
  contactId: string;
  remoteId: string | null;
  fields: FieldValues | null;
  main: string | null;
  uncertain: boolean;
  status: 'synced' | 'failed';
  method: string | null;
  result: string | null;
  error: string | null;
}

/** Writes members' sync state and call lineage in one statement. */
export async function writeMemberStates(
  db: Queryable,
  groupId: string,
  writes: StateWrite[],
): Promise<void> {
  if (writes.length === 0) return;
  await db.query(
    `INSERT INTO sync_member_state AS s (group_id, contact_id, remote_id, synced_fields, main_value,
       uncertain, status, last_method, last_call_at, last_result, last_error, updated_at)
     SELECT $1, w.contact_id, w.remote_id, w.fields, w.main, w.uncertain, w.status, w.method,
            CASE WHEN w.method IS NULL THEN NULL ELSE now() END, w.result, w.error, now()
     FROM jsonb_to_recordset($2::jsonb) AS w(contact_id text, remote_id text, fields jsonb,
       main text, uncertain boolean, status text, method text, result text, error text)
     ON CONFLICT (group_id, contact_id) DO UPDATE SET
       remote_id = excluded.remote_id, synced_fields = excluded.synced_fields,
       main_value = excluded.main_value, uncertain = excluded.uncertain, status = excluded.status,
       last_method = COALESCE(excluded.last_method, s.last_method),
       last_call_at = COALESCE(excluded.last_call_at, s.last_call_at),
       last_result = COALESCE(excluded.last_result, s.last_result),
       last_error = excluded.last_error, updated_at = now()`,
    [
      groupId,
      JSON.stringify(
        writes.map((w) => ({
          contact_id: w.contactId,
          remote_id: w.remoteId,
          fields: w.fields,
          main: w.main,
          uncertain: w.uncertain,
          status: w.status,
          method: w.method,
          result: w.result,
          error: w.error,
        })),
      ),
    ],
  );
}

/** Records a failure without touching what is known to be synced. */
export async function markMembersFailed(
  db: Queryable,
  groupId: string,
  failures: { contactId: string; method: string | null; error: string }[],
): Promise<void> {
  if (failures.length === 0) return;
  await db.query(
    `INSERT INTO sync_member_state AS s (group_id, contact_id, synced_fields, status, last_method,
       last_call_at, last_error, updated_at)
     SELECT $1, f.contact_id, NULL, 'failed', f.method,
            CASE WHEN f.method IS NULL THEN NULL ELSE now() END, f.error, now()
     FROM jsonb_to_recordset($2::jsonb) AS f(contact_id text, method text, error text)
     ON CONFLICT (group_id, contact_id) DO UPDATE SET status = 'failed',
       last_method = COALESCE(excluded.last_method, s.last_method),
       last_call_at = COALESCE(excluded.last_call_at, s.last_call_at),
       -- A call the API refused was not applied: the remote copy is as last synced.
       uncertain = CASE WHEN excluded.last_method IS NULL THEN s.uncertain ELSE false END,
       last_error = excluded.last_error, updated_at = now()`,
    [
      groupId,
      JSON.stringify(
        failures.map((f) => ({ contact_id: f.contactId, method: f.method, error: f.error })),
      ),
    ],
  );
}

/** Forgets members that are gone both locally and remotely. */
export async function forgetMembers(
  db: Queryable,
  groupId: string,
  contactIds: string[],
): Promise<void> {
  if (contactIds.length === 0) return;
  await db.query(
    'DELETE FROM sync_member_state WHERE group_id = $1 AND contact_id = ANY($2::text[])',
    [groupId, contactIds],
  );
}

/**
 * Main values already held remotely by another member of the group (duplicates guard). A holder
 * that is leaving the group, or whose main value is changing, is `departing`: the candidate waits
 * for it instead of failing.
 */
export async function mainValuesHeldByOthers(
  db: Queryable,
  groupId: string,
  mainField: 'mobile' | 'email',
  candidates: { contactId: string; main: string }[],
): Promise<
  Map<string, { holder: string; departing: boolean; holderTakesMine: boolean; contested: boolean }>
> {
  if (candidates.length === 0) return new Map();
  const res = await db.query<{
    contact_id: string;
    holder: string;
    departing: boolean;
    takes_mine: boolean;
    contested: boolean;
  }>(
    `SELECT x.contact_id, s.contact_id AS holder,
            (c.id IS NULL OR c.${mainField} IS DISTINCT FROM s.main_value) AS departing,
            (c.${mainField} IS NOT NULL AND c.${mainField} = me.main_value) AS takes_mine,
            (s.synced_fields IS NULL AND c.${mainField} = x.main) AS contested
     FROM unnest($2::text[], $3::text[]) AS x(contact_id, main)
     JOIN sync_member_state s ON s.group_id = $1 AND s.main_value = x.main
       AND s.contact_id <> x.contact_id AND (s.synced_fields IS NOT NULL OR s.uncertain)
     LEFT JOIN sync_member_state me ON me.group_id = $1 AND me.contact_id = x.contact_id
     LEFT JOIN group_members gm ON gm.group_id = s.group_id AND gm.contact_id = s.contact_id
     LEFT JOIN contacts c ON c.id = gm.contact_id`,
    [groupId, candidates.map((c) => c.contactId), candidates.map((c) => c.main)],
  );
  return new Map(
    res.rows.map((r) => [
      r.contact_id,
      {
        holder: r.holder,
        departing: r.departing,
        holderTakesMine: r.takes_mine,
        contested: r.contested,
      },
    ]),
  );
}

/** Members per statement of learnRemoteIds: each statement stays well under a second. */
export const LEARN_CHUNK = 10_000;

/**
 * Records remote ids from a staged read of the group (`sync_remote_snapshot`) for members synced
 * without one (the API answered an add without ids), so their next modify or delete needs no
 * read of its own. Only values held by exactly one remote contact are taken, and an id another
 * member already holds is never taken. Answers how many ids were learnt.
 */
export async function learnRemoteIds(
  db: Queryable,
  groupId: string,
  chunk = LEARN_CHUNK,
): Promise<number> {
  // In chunks of members, in key order, every look-up through an index: as one statement over a
  // million members (a strict-docs group after its first load) the check that no other member
  // holds the id (remote_id has no index) became a nested loop over the group, ran past the
  // pool's statement_timeout and was cancelled, and the run read the group again, and again.
  //
  // A member holding id X normally has X's main value as its own: that holder is found through
  // (group_id, main_value). Holders whose remote copy now shows another value (edited remotely)
  // are gathered first, chunk by chunk, through the snapshot's key: usually none.
  const odd: string[] = [];
  let after = '';
  for (;;) {
    const res = await db.query<{ last: string | null; odd: string[] }>(
      `WITH chunk AS MATERIALIZED (
         SELECT contact_id, remote_id, main_value FROM sync_member_state
         WHERE group_id = $1 AND contact_id > $2 AND remote_id IS NOT NULL
         ORDER BY contact_id LIMIT $3)
       SELECT (SELECT max(contact_id) FROM chunk) AS last,
              ARRAY(SELECT c.remote_id FROM chunk c
                    JOIN sync_remote_snapshot x ON x.group_id = $1 AND x.idcontact = c.remote_id
                    WHERE x.main IS DISTINCT FROM c.main_value) AS odd`,
      [groupId, after, chunk],
    );
    const row = res.rows[0];
    if (!row?.last) break;
    odd.push(...row.odd);
    after = row.last;
  }
  let learnt = 0;
  after = '';
  for (;;) {
    const res = await db.query<{ last: string | null; learnt: number }>(
      `WITH chunk AS MATERIALIZED (
         SELECT contact_id, main_value FROM sync_member_state
         WHERE group_id = $1 AND contact_id > $2 AND remote_id IS NULL AND NOT uncertain
           AND synced_fields IS NOT NULL AND main_value IS NOT NULL
         ORDER BY contact_id LIMIT $3),
       found AS MATERIALIZED (
         SELECT c.contact_id, r.idcontact FROM chunk c
         CROSS JOIN LATERAL (
           SELECT min(x.idcontact) AS idcontact FROM sync_remote_snapshot x
           WHERE x.group_id = $1 AND x.main = c.main_value HAVING count(*) = 1) r
         WHERE r.idcontact <> ALL($4::text[])
           AND NOT EXISTS (SELECT 1 FROM sync_member_state o
                           WHERE o.group_id = $1 AND o.main_value = c.main_value
                             AND o.remote_id = r.idcontact)),
       learnt AS (
         UPDATE sync_member_state s SET remote_id = f.idcontact FROM found f
         WHERE s.group_id = $1 AND s.contact_id = f.contact_id
         RETURNING 1)
       SELECT (SELECT max(contact_id) FROM chunk) AS last, (SELECT count(*) FROM learnt)::int AS learnt`,
      [groupId, after, chunk, odd],
    );
    const row = res.rows[0];
    learnt += row?.learnt ?? 0;
    if (!row?.last) return learnt;
    after = row.last;
  }
}

/**
 * Sets members' write-ahead mark: `true` before calls that change their remote copy go out (a lost
 * answer or a crash is then settled by a look-up), `false` to take back the marks of calls that
 * were never sent.
 */
export async function setUncertain(
  db: Queryable,
  groupId: string,
  contactIds: string[],
  uncertain: boolean,
): Promise<void> {
  if (contactIds.length === 0) return;
  await db.query(
    'UPDATE sync_member_state SET uncertain = $3 WHERE group_id = $1 AND contact_id = ANY($2::text[])',
    [groupId, contactIds, uncertain],
  );
}

/**
 * A person linked the group to an existing remote group: nothing is known about which remote
 * contact is whose, so every member is settled by a look-up (uncertain), remembering the main
 * value it has now, so a member removed before the look-up is still found and deleted.
 */
export async function resetMembersForLink(
  db: Queryable,
  groupId: string,
  mainField: 'mobile' | 'email',
): Promise<void> {
  await db.query(
    `INSERT INTO sync_member_state AS s (group_id, contact_id, main_value, uncertain, status)
     SELECT gm.group_id, gm.contact_id, NULLIF(c.${mainField}, ''), true, 'synced'
     FROM group_members gm JOIN contacts c ON c.id = gm.contact_id WHERE gm.group_id = $1
     ON CONFLICT (group_id, contact_id) DO UPDATE
       SET uncertain = true, remote_id = NULL, synced_fields = NULL,
           main_value = excluded.main_value, updated_at = now()`,
    [groupId],
  );
}

/** A column left the remote group: no member's remote copy holds it any more. */
export async function dropFieldFromStates(
  db: Queryable,
  groupId: string,
  field: string,
): Promise<void> {
  await db.query(
    `UPDATE sync_member_state SET synced_fields = synced_fields - $2::text
     WHERE group_id = $1 AND synced_fields ? $2`,
    [groupId, field],
  );
}

/** Members whose remote copy is known to be gone while they stay members: added again next. */
export async function forgetRemoteCopies(
  db: Queryable,
  groupId: string,
  contactIds: readonly string[],
): Promise<void> {
  if (contactIds.length === 0) return;
  await db.query(
    `UPDATE sync_member_state SET remote_id = NULL, synced_fields = NULL, uncertain = false,
       updated_at = now()
     WHERE group_id = $1 AND contact_id = ANY($2::text[])`,
    [groupId, contactIds],
  );
}

/**
 * Members whose remote contact is waiting to be deleted: marked, known remotely, and no longer
 * members. What a hold of member deletes covers, across every chunk of the group.
 */
export async function countPendingRemovals(db: Queryable, groupId: string): Promise<number> {
  const res = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM sync_dirty d
     JOIN sync_member_state s ON s.group_id = d.group_id AND s.contact_id = d.contact_id
     WHERE d.group_id = $1 AND (s.synced_fields IS NOT NULL OR s.remote_id IS NOT NULL OR s.uncertain)
       AND NOT EXISTS (SELECT 1 FROM group_members gm
                       WHERE gm.group_id = d.group_id AND gm.contact_id = d.contact_id)`,
    [groupId],
  );
  return res.rows[0]?.n ?? 0;
}

/** Synced members of a group, and how many of them were sent a value for `field`. */
export async function countSyncedValues(
  db: Queryable,
  groupId: string,
  field: string,
): Promise<{ synced: number; values: number }> {
  const res = await db.query<{ synced: number; values: number }>(
    `SELECT count(*)::int AS synced,
            count(*) FILTER (WHERE COALESCE(synced_fields ->> $2, '') <> '')::int AS values
     FROM sync_member_state WHERE group_id = $1 AND synced_fields IS NOT NULL`,
    [groupId, field],
  );
  return res.rows[0] ?? { synced: 0, values: 0 };
}
