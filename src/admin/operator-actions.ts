import type { Queue } from 'bullmq';
import type pg from 'pg';
import type { GroupQueue } from '../sync/group-queue.ts';
import { approveDeletes } from '../sync/delete-guard.ts';
import { QUEUE_STATES } from './scrape-metrics.ts';

/** One group's line in GET /status. */
export interface GroupStatus {
  id: string;
  name: string | null;
  type: string | null;
  remoteId: string | null;
  status: string;
  lastError: string | null;
  lastSyncAt: string | null;
  dirty: boolean;
  members: { synced: number; failed: number; pending: number };
  holds: { kind: string; count: number; reason: string; createdAt: string }[];
}

/** What GET /status answers. */
export interface DaemonStatus {
  generatedAt: string;
  groups: GroupStatus[];
  totals: { groups: number; synced: number; failed: number; pending: number; heldDeletes: number };
  outbox: { rows: number; lagSeconds: number };
  queue: Record<string, number>;
}

/** Which groups an operator action applies to: a list, or every group. */
export type GroupSelection = { groups: string[] } | { all: true };

const GROUPS = `
SELECT k.id, g.name, g.type, s.remote_id, COALESCE(s.status, 'new') AS status, s.last_error,
       s.last_sync_at, COALESCE(s.dirty, true) AS dirty,
       (SELECT count(*) FROM sync_member_state m WHERE m.group_id = k.id AND m.status = 'synced'
          AND NOT EXISTS (SELECT 1 FROM sync_dirty d WHERE d.group_id = k.id AND d.contact_id = m.contact_id))::int AS synced,
       (SELECT count(*) FROM sync_member_state m WHERE m.group_id = k.id AND m.status = 'failed'
          AND NOT EXISTS (SELECT 1 FROM sync_dirty d WHERE d.group_id = k.id AND d.contact_id = m.contact_id))::int AS failed,
       (SELECT count(*) FROM sync_dirty d WHERE d.group_id = k.id)::int AS pending,
       COALESCE((SELECT jsonb_agg(jsonb_build_object('kind', h.kind, 'count', h.count,
                  'reason', h.reason, 'createdAt', h.created_at) ORDER BY h.id)
                 FROM sync_holds h WHERE h.group_id = k.id AND h.approved_at IS NULL), '[]') AS holds
FROM (SELECT id FROM groups UNION SELECT group_id FROM sync_group_state) k
LEFT JOIN groups g ON g.id = k.id
LEFT JOIN sync_group_state s ON s.group_id = k.id
ORDER BY k.id`;

const OUTBOX = `SELECT count(*)::int AS rows,
  COALESCE(extract(epoch FROM now() - min(created_at)), 0)::float8 AS lag FROM sync_outbox`;

/**
 * Minimal status for the admin API (a stand-in until src/operator provides the shared one): each
 * group with its sync state, member counts and open holds, plus outbox and queue totals.
 */
export async function readStatus(pool: pg.Pool, queue: Queue): Promise<DaemonStatus> {
  const [groups, outbox, counts] = await Promise.all([
    pool.query<{
      id: string;
      name: string | null;
      type: string | null;
      remote_id: string | null;
      status: string;
      last_error: string | null;
      last_sync_at: Date | null;
      dirty: boolean;
      synced: number;
      failed: number;
      pending: number;
      holds: GroupStatus['holds'];
    }>(GROUPS),
    pool.query<{ rows: number; lag: number }>(OUTBOX),
    queue.getJobCounts(...QUEUE_STATES),
  ]);
  const list: GroupStatus[] = groups.rows.map((r) => ({
    id: r.id,
    name: r.name,
    type: r.type,
    remoteId: r.remote_id,
    status: r.status,
    lastError: r.last_error,
    lastSyncAt: r.last_sync_at?.toISOString() ?? null,
    dirty: r.dirty,
    members: { synced: r.synced, failed: r.failed, pending: r.pending },
    holds: r.holds,
  }));
  const sum = (f: (g: GroupStatus) => number) => list.reduce((n, g) => n + f(g), 0);
  return {
    generatedAt: new Date().toISOString(),
    groups: list,
    totals: {
      groups: list.length,
      synced: sum((g) => g.members.synced),
      failed: sum((g) => g.members.failed),
      pending: sum((g) => g.members.pending),
      heldDeletes: sum((g) => g.holds.reduce((n, h) => n + h.count, 0)),
    },
    outbox: { rows: outbox.rows[0]?.rows ?? 0, lagSeconds: outbox.rows[0]?.lag ?? 0 },
    queue: counts,
  };
}

/**
 * Tries failed records again: failed members are marked dirty (live priority), failed groups are
 * marked dirty so the worker reconciles them, and each touched group is queued at once.
 */
export async function retryFailed(
  pool: pg.Pool,
  queue: GroupQueue,
  selection: GroupSelection,
): Promise<{ groups: string[]; members: number }> {
  const filter = 'all' in selection ? null : selection.groups;
  const members = await pool.query<{ group_id: string }>(
    `INSERT INTO sync_dirty (group_id, contact_id, seq, bulk)
     SELECT group_id, contact_id, nextval('sync_dirty_seq'), false FROM sync_member_state
     WHERE status = 'failed' AND ($1::text[] IS NULL OR group_id = ANY($1))
     ON CONFLICT (group_id, contact_id) DO UPDATE SET seq = excluded.seq, bulk = false, marked_at = now()
     RETURNING group_id`,
    [filter],
  );
  const groups = await pool.query<{ group_id: string }>(
    `UPDATE sync_group_state SET dirty = true, updated_at = now()
     WHERE status = 'failed' AND ($1::text[] IS NULL OR group_id = ANY($1)) RETURNING group_id`,
    [filter],
  );
  const touched = [...new Set([...members.rows, ...groups.rows].map((r) => r.group_id))].sort();
  await queue.enqueue(touched, { now: true });
  return { groups: touched, members: members.rowCount ?? 0 };
}

/** Approves a group's open deletion holds and queues the group so the held deletes go ahead. */
export async function approveGroupDeletes(
  pool: pg.Pool,
  queue: GroupQueue,
  groupId: string,
  approvedBy: string,
): Promise<{ approved: number }> {
  const approved = await approveDeletes(pool, groupId, approvedBy);
  if (approved > 0) await queue.enqueue([groupId], { now: true });
  return { approved };
}
