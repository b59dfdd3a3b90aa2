import type pg from 'pg';
import type { FieldValues } from '../planner/project-fields.ts';
import type { MemberSnapshot } from '../planner/plan-member-sync.ts';

export interface DirtyMember extends MemberSnapshot {
  seq: string;
  bulk: boolean;
  status: string | null;
}

/**
 * Reads the next dirty members of a group (live before bulk), each with its contact's current
 * values (null when no longer a member) and what was last synced.
 */
export async function loadDirtyMembers(
  pool: pg.Pool,
  groupId: string,
  limit: number,
  includeRemovals = true,
): Promise<DirtyMember[]> {
  const res = await pool.query<{
    contact_id: string;
    seq: string;
    bulk: boolean;
    is_member: boolean;
    mobile: string | null;
    email: string | null;
    attributes: unknown;
    remote_id: string | null;
    synced_fields: FieldValues | null;
    uncertain: boolean | null;
    status: string | null;
  }>(
    `SELECT d.contact_id, d.seq::text AS seq, d.bulk, c.id IS NOT NULL AS is_member,
            c.mobile, c.email, c.attributes,
            s.remote_id, s.synced_fields, s.uncertain, s.status
     FROM sync_dirty d
     LEFT JOIN group_members gm ON gm.group_id = d.group_id AND gm.contact_id = d.contact_id
     LEFT JOIN contacts c ON c.id = gm.contact_id
     LEFT JOIN sync_member_state s ON s.group_id = d.group_id AND s.contact_id = d.contact_id
     WHERE d.group_id = $1 AND ($3 OR c.id IS NOT NULL)
     ORDER BY d.bulk, d.seq
     LIMIT $2`,
    [groupId, limit, includeRemovals],
  );
  return res.rows.map((r) => ({
    contactId: r.contact_id,
    seq: r.seq,
    bulk: r.bulk,
    status: r.status,
    contact: r.is_member ? { mobile: r.mobile, email: r.email, attributes: r.attributes } : null,
    remoteId: r.remote_id,
    syncedFields: r.synced_fields,
    uncertain: r.uncertain ?? false,
  }));
}

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
  pool: pg.Pool,
  groupId: string,
  writes: StateWrite[],
): Promise<void> {
  if (writes.length === 0) return;
  await pool.query(
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
  pool: pg.Pool,
  groupId: string,
  failures: { contactId: string; method: string | null; error: string }[],
): Promise<void> {
  if (failures.length === 0) return;
  await pool.query(
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
  pool: pg.Pool,
  groupId: string,
  contactIds: string[],
): Promise<void> {
  if (contactIds.length === 0) return;
  await pool.query(
    'DELETE FROM sync_member_state WHERE group_id = $1 AND contact_id = ANY($2::text[])',
    [groupId, contactIds],
  );
}

/** Clears dirty marks, but only those not re-made since they were read (same seq). */
export async function clearDirty(
  pool: pg.Pool,
  groupId: string,
  done: { contactId: string; seq: string }[],
): Promise<void> {
  if (done.length === 0) return;
  await pool.query(
    `DELETE FROM sync_dirty d USING unnest($2::text[], $3::bigint[]) AS x(contact_id, seq)
     WHERE d.group_id = $1 AND d.contact_id = x.contact_id AND d.seq = x.seq`,
    [groupId, done.map((d) => d.contactId), done.map((d) => d.seq)],
  );
}

/**
 * Main values already held remotely by another member of the group (duplicates guard). A holder
 * that is leaving the group, or whose main value is changing, is `departing`: the candidate waits
 * for it instead of failing.
 */
export async function mainValuesHeldByOthers(
  pool: pg.Pool,
  groupId: string,
  mainField: 'mobile' | 'email',
  candidates: { contactId: string; main: string }[],
): Promise<Map<string, { holder: string; departing: boolean }>> {
  if (candidates.length === 0) return new Map();
  const res = await pool.query<{ contact_id: string; holder: string; departing: boolean }>(
    `SELECT x.contact_id, s.contact_id AS holder,
            (c.id IS NULL OR c.${mainField} IS DISTINCT FROM s.main_value) AS departing
     FROM unnest($2::text[], $3::text[]) AS x(contact_id, main)
     JOIN sync_member_state s ON s.group_id = $1 AND s.main_value = x.main
       AND s.contact_id <> x.contact_id AND (s.synced_fields IS NOT NULL OR s.uncertain)
     LEFT JOIN group_members gm ON gm.group_id = s.group_id AND gm.contact_id = s.contact_id
     LEFT JOIN contacts c ON c.id = gm.contact_id`,
    [groupId, candidates.map((c) => c.contactId), candidates.map((c) => c.main)],
  );
  return new Map(res.rows.map((r) => [r.contact_id, { holder: r.holder, departing: r.departing }]));
}

/**
 * Records remote ids learnt from a read of the whole group for members synced without one (the
 * API answered an add without ids), so their next modify or delete needs no read of its own.
 */
export async function learnRemoteIds(
  pool: pg.Pool,
  groupId: string,
  pairs: { main: string; idcontact: string }[],
): Promise<void> {
  if (pairs.length === 0) return;
  await pool.query(
    `UPDATE sync_member_state s SET remote_id = x.idcontact
     FROM unnest($2::text[], $3::text[]) AS x(main, idcontact)
     WHERE s.group_id = $1 AND s.remote_id IS NULL AND NOT s.uncertain
       AND s.synced_fields IS NOT NULL AND s.main_value = x.main`,
    [groupId, pairs.map((p) => p.main), pairs.map((p) => p.idcontact)],
  );
}

/** Marks members whose remote copy is about to change, before the calls go out. */
export async function markUncertain(
  pool: pg.Pool,
  groupId: string,
  contactIds: string[],
): Promise<void> {
  if (contactIds.length === 0) return;
  await pool.query(
    'UPDATE sync_member_state SET uncertain = true WHERE group_id = $1 AND contact_id = ANY($2::text[])',
    [groupId, contactIds],
  );
}

/** Takes back write-ahead marks of calls that were never sent. */
export async function unmarkUncertain(
  pool: pg.Pool,
  groupId: string,
  contactIds: string[],
): Promise<void> {
  if (contactIds.length === 0) return;
  await pool.query(
    'UPDATE sync_member_state SET uncertain = false WHERE group_id = $1 AND contact_id = ANY($2::text[])',
    [groupId, contactIds],
  );
}
