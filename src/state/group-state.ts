import type { Queryable } from './queryable.ts';
import { markMembersDirty } from './dirty-marks.ts';

export interface GroupSnapshot {
  exists: boolean;
  name: string | null;
  type: 'mobile' | 'email' | null;
  fields: string[];
  countryIso3: string | null;
  afilnetId: string | null;
  state: {
    remoteId: string | null;
    type: string | null;
    name: string | null;
    syncedFields: string[] | null;
    syncedCountry: string | null;
    status: string;
    dirty: boolean;
    dirtySeq: string;
    /** A creategroup sent whose answer was never recorded (write-ahead). */
    createSentAt: Date | null;
    orphanNote: string | null;
    /** Paused by an operator: runs leave the group alone. */
    paused: boolean;
  } | null;
}

/** Reads a group row (if it still exists) with what was last synced for it. */
export async function loadGroup(db: Queryable, groupId: string): Promise<GroupSnapshot> {
  const res = await db.query<{
    exists: boolean;
    name: string | null;
    type: 'mobile' | 'email' | null;
    fields: string[] | null;
    country_iso3: string | null;
    afilnet_id: string | null;
    has_state: boolean;
    remote_id: string | null;
    s_type: string | null;
    s_name: string | null;
    synced_fields: string[] | null;
    synced_country: string | null;
    status: string | null;
    dirty: boolean | null;
    dirty_seq: string | null;
    create_sent_at: Date | null;
    orphan_note: string | null;
    paused: boolean | null;
  }>(
    `SELECT g.id IS NOT NULL AS exists, g.name, g.type, g.fields, g.country_iso3, g.afilnet_id,
            s.group_id IS NOT NULL AS has_state, s.remote_id, s.type AS s_type, s.name AS s_name,
            s.synced_fields, s.synced_country, s.status, s.dirty,
            s.dirty_seq::text AS dirty_seq, s.create_sent_at, s.orphan_note,
            s.paused_at IS NOT NULL AS paused
     FROM (SELECT $1::text AS id) k
     LEFT JOIN groups g ON g.id = k.id
     LEFT JOIN sync_group_state s ON s.group_id = k.id`,
    [groupId],
  );
  const r = res.rows[0];
  if (!r) throw new Error('unreachable: the key row always exists');
  return {
    exists: r.exists,
    name: r.name,
    type: r.type,
    fields: r.fields ?? [],
    countryIso3: r.country_iso3,
    afilnetId: r.afilnet_id,
    state: r.has_state
      ? {
          remoteId: r.remote_id,
          type: r.s_type,
          name: r.s_name,
          syncedFields: r.synced_fields,
          syncedCountry: r.synced_country,
          status: r.status ?? 'ok',
          dirty: r.dirty ?? true,
          dirtySeq: r.dirty_seq ?? '0',
          createSentAt: r.create_sent_at,
          orphanNote: r.orphan_note,
          paused: r.paused ?? false,
        }
      : null,
  };
}

export interface GroupStatePatch {
  remoteId?: string | null;
  type?: string | null;
  name?: string | null;
  syncedFields?: string[] | null;
  syncedCountry?: string | null;
  status?: 'ok' | 'failed' | 'warning' | 'held';
  lastError?: string | null;
  dirty?: boolean;
  synced?: boolean;
  createSentAt?: Date | null;
  orphanNote?: string | null;
}

const COLUMNS: Record<keyof Omit<GroupStatePatch, 'synced'>, string> = {
  remoteId: 'remote_id',
  type: 'type',
  name: 'name',
  syncedFields: 'synced_fields',
  syncedCountry: 'synced_country',
  status: 'status',
  lastError: 'last_error',
  dirty: 'dirty',
  createSentAt: 'create_sent_at',
  orphanNote: 'orphan_note',
};

/** Upserts the parts of a group's sync state that changed. */
export async function patchGroupState(
  db: Queryable,
  groupId: string,
  patch: GroupStatePatch,
): Promise<void> {
  const cols: string[] = [];
  const values: unknown[] = [groupId];
  for (const [key, column] of Object.entries(COLUMNS) as [keyof typeof COLUMNS, string][]) {
    if (patch[key] === undefined) continue;
    values.push(patch[key]);
    cols.push(column);
  }
  if (patch.synced) cols.push('last_sync_at');
  const insertCols = ['group_id', ...cols, 'updated_at'];
  const insertVals = [
    '$1',
    ...cols.map((c, i) => (c === 'last_sync_at' ? 'now()' : `$${i + 2}`)),
    'now()',
  ];
  const updates = [...cols, 'updated_at'].map((c) => `${c} = excluded.${c}`);
  await db.query(
    `INSERT INTO sync_group_state (${insertCols.join(', ')}) VALUES (${insertVals.join(', ')})
     ON CONFLICT (group_id) DO UPDATE SET ${updates.join(', ')}`,
    values,
  );
}

/** Clears a group's dirty flag unless a change arrived since `seq` was read. */
export async function clearGroupDirty(db: Queryable, groupId: string, seq: string): Promise<void> {
  await db.query(
    'UPDATE sync_group_state SET dirty = false WHERE group_id = $1 AND dirty_seq = $2',
    [groupId, seq],
  );
}

/**
 * After the remote group was deleted (or found gone): forgets the group if its row is still
 * gone. If the row came back while `deletegroup` was in flight (deleted and inserted again), its
 * marks stay, what was synced is dropped (the remote group no longer exists), a link to the
 * deleted remote id is cleared, and every member is marked, so the group is created anew with
 * all its members. One statement: every part sees the same snapshot.
 */
export async function forgetDeletedGroup(
  db: Queryable,
  groupId: string,
  remoteId: string | null,
): Promise<'forgotten' | 'recreated'> {
  const res = await db.query<{ alive: boolean }>(
    `WITH alive AS (SELECT EXISTS (SELECT 1 FROM groups WHERE id = $1) AS yes),
     marks AS (DELETE FROM sync_dirty WHERE group_id = $1 AND NOT (SELECT yes FROM alive)),
     members AS (DELETE FROM sync_member_state WHERE group_id = $1),
     gone AS (DELETE FROM sync_group_state WHERE group_id = $1 AND NOT (SELECT yes FROM alive)),
     reset AS (
       UPDATE sync_group_state SET remote_id = NULL, type = NULL, name = NULL, synced_fields = NULL,
         synced_country = NULL, status = 'ok', last_error = NULL, dirty = true,
         dirty_seq = nextval('sync_dirty_seq'), updated_at = now()
       WHERE group_id = $1 AND (SELECT yes FROM alive)),
     unlink AS (
       UPDATE groups SET afilnet_id = NULL
       WHERE id = $1 AND afilnet_id = $2 AND (SELECT yes FROM alive))
     SELECT yes AS alive FROM alive`,
    [groupId, remoteId],
  );
  if (!res.rows[0]?.alive) return 'forgotten';
  await markMembersDirty(db, groupId, null, { live: true });
  return 'recreated';
}

/**
 * Flags groups dirty (their reconcile runs again) with a fresh dirty_seq, so a run in progress,
 * which read the old seq, cannot clear the flag.
 */
export async function markGroupsDirty(
  db: Queryable,
  groupIds: readonly string[] | null,
  where: 'any' | 'failed' | 'held' = 'any',
): Promise<string[]> {
  const res = await db.query<{ group_id: string }>(
    `UPDATE sync_group_state SET dirty = true, dirty_seq = nextval('sync_dirty_seq'), updated_at = now()
     WHERE ($1::text[] IS NULL OR group_id = ANY($1)) AND ($2 = 'any' OR status = $2)
     RETURNING group_id`,
    [groupIds, where],
  );
  return res.rows.map((r) => r.group_id);
}

/**
 * Asks the groups' workers to apply a resync run: the request flag, plus `dirty` with a fresh
 * dirty_seq so the relay's sweep queues the group again if the job is lost. Only groups with no
 * request pending take it; returns those that did.
 */
export async function requestResync(
  db: Queryable,
  runId: string,
  groupIds: readonly string[],
): Promise<string[]> {
  const res = await db.query<{ group_id: string }>(
    `UPDATE sync_group_state
     SET resync_run_id = $1, dirty = true, dirty_seq = nextval('sync_dirty_seq'), updated_at = now()
     WHERE group_id = ANY($2::text[]) AND resync_run_id IS NULL RETURNING group_id`,
    [runId, groupIds],
  );
  return res.rows.map((r) => r.group_id);
}

/** Clears a group's resync request, if it is still this run's (applied, failed or abandoned). */
export async function clearResyncRequest(
  db: Queryable,
  groupId: string,
  runId: string,
): Promise<void> {
  await db.query(
    'UPDATE sync_group_state SET resync_run_id = NULL WHERE group_id = $1 AND resync_run_id = $2',
    [groupId, runId],
  );
}
