import type pg from 'pg';

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
  } | null;
}

/** Reads a group row (if it still exists) with what was last synced for it. */
export async function loadGroup(pool: pg.Pool, groupId: string): Promise<GroupSnapshot> {
  const res = await pool.query<{
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
  }>(
    `SELECT g.id IS NOT NULL AS exists, g.name, g.type, g.fields, g.country_iso3, g.afilnet_id,
            s.group_id IS NOT NULL AS has_state, s.remote_id, s.type AS s_type, s.name AS s_name,
            s.synced_fields, s.synced_country, s.status, s.dirty,
            s.dirty_seq::text AS dirty_seq
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
};

/** Upserts the parts of a group's sync state that changed. */
export async function patchGroupState(
  pool: pg.Pool,
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
  await pool.query(
    `INSERT INTO sync_group_state (${insertCols.join(', ')}) VALUES (${insertVals.join(', ')})
     ON CONFLICT (group_id) DO UPDATE SET ${updates.join(', ')}`,
    values,
  );
}

/** Clears a group's dirty flag unless a change arrived since `seq` was read. */
export async function clearGroupDirty(pool: pg.Pool, groupId: string, seq: string): Promise<void> {
  await pool.query(
    'UPDATE sync_group_state SET dirty = false WHERE group_id = $1 AND dirty_seq = $2',
    [groupId, seq],
  );
}

/** Removes every trace of a group that is gone locally and remotely. */
export async function forgetGroup(pool: pg.Pool, groupId: string): Promise<void> {
  await pool.query('DELETE FROM sync_dirty WHERE group_id = $1', [groupId]);
  await pool.query('DELETE FROM sync_member_state WHERE group_id = $1', [groupId]);
  await pool.query('DELETE FROM sync_group_state WHERE group_id = $1', [groupId]);
}

/** Marks every member of a group dirty, as bulk work (after a column was added, a link, …). */
export async function markAllMembersDirty(pool: pg.Pool, groupId: string): Promise<void> {
  await pool.query(
    `INSERT INTO sync_dirty (group_id, contact_id, seq, bulk)
     SELECT group_id, contact_id, nextval('sync_dirty_seq'), true FROM group_members
     WHERE group_id = $1 ORDER BY contact_id
     ON CONFLICT (group_id, contact_id) DO UPDATE SET seq = excluded.seq, marked_at = now()`,
    [groupId],
  );
}
