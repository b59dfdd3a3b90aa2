import type pg from 'pg';
import { assertGroupsKnown } from './unknown-group.ts';

export interface FailedMember {
  groupId: string;
  contactId: string;
  lastMethod: string | null;
  lastError: string | null;
  /** When the failure was recorded. */
  at: string;
  lastCallAt: string | null;
}

export interface GroupProblem {
  groupId: string;
  name: string | null;
  status: string;
  lastError: string | null;
  at: string;
}

export interface OpenHold {
  id: string;
  groupId: string;
  kind: string;
  count: number;
  reason: string;
  createdAt: string;
}

export interface ErrorReport {
  members: FailedMember[];
  /** Failed members in all, which may be more than listed (see `limit`). */
  failedMembers: number;
  groups: GroupProblem[];
  holds: OpenHold[];
}

export interface ErrorReportOptions {
  groupId?: string;
  /** At most this many failed members are listed, most recent first. Default 1,000. */
  limit?: number;
}

/**
 * What needs an operator: members whose last sync failed, groups that failed, carry a warning
 * or are held, and holds waiting for approval. Throws UnknownGroupError for an unknown group.
 */
export async function errorReport(
  deps: { pool: pg.Pool },
  opts: ErrorReportOptions = {},
): Promise<ErrorReport> {
  const { pool } = deps;
  const groupId = opts.groupId ?? null;
  if (groupId !== null) await assertGroupsKnown(pool, [groupId]);
  const [members, total, groups, holds] = await Promise.all([
    pool.query<{
      group_id: string;
      contact_id: string;
      last_method: string | null;
      last_error: string | null;
      updated_at: Date;
      last_call_at: Date | null;
    }>(
      `SELECT group_id, contact_id, last_method, last_error, updated_at, last_call_at
       FROM sync_member_state WHERE status = 'failed' AND ($1::text IS NULL OR group_id = $1)
       ORDER BY updated_at DESC, group_id, contact_id LIMIT $2`,
      [groupId, opts.limit ?? 1_000],
    ),
    pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM sync_member_state
       WHERE status = 'failed' AND ($1::text IS NULL OR group_id = $1)`,
      [groupId],
    ),
    pool.query<{
      group_id: string;
      name: string | null;
      status: string;
      last_error: string | null;
      updated_at: Date;
    }>(
      `SELECT s.group_id, g.name, s.status, s.last_error, s.updated_at
       FROM sync_group_state s LEFT JOIN groups g ON g.id = s.group_id
       WHERE s.status IN ('failed', 'warning', 'held') AND ($1::text IS NULL OR s.group_id = $1)
       ORDER BY s.group_id`,
      [groupId],
    ),
    pool.query<{
      id: string;
      group_id: string;
      kind: string;
      count: number;
      reason: string;
      created_at: Date;
    }>(
      `SELECT id::text AS id, group_id, kind, count, reason, created_at FROM sync_holds
       WHERE approved_at IS NULL AND ($1::text IS NULL OR group_id = $1)
       ORDER BY created_at, id`,
      [groupId],
    ),
  ]);
  return {
    members: members.rows.map((r) => ({
      groupId: r.group_id,
      contactId: r.contact_id,
      lastMethod: r.last_method,
      lastError: r.last_error,
      at: r.updated_at.toISOString(),
      lastCallAt: r.last_call_at?.toISOString() ?? null,
    })),
    failedMembers: total.rows[0]?.n ?? 0,
    groups: groups.rows.map((r) => ({
      groupId: r.group_id,
      name: r.name,
      status: r.status,
      lastError: r.last_error,
      at: r.updated_at.toISOString(),
    })),
    holds: holds.rows.map((r) => ({
      id: r.id,
      groupId: r.group_id,
      kind: r.kind,
      count: r.count,
      reason: r.reason,
      createdAt: r.created_at.toISOString(),
    })),
  };
}
