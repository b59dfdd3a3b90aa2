import type { Redis } from 'ioredis';
import type pg from 'pg';
import type { GroupQueue } from '../sync/group-queue.ts';
import { captureTriggerProblems } from '../capture/capture-triggers.ts';
import { segmentConfinementProblem } from '../state/segment-membership.ts';
import { readAccountPause, readAllowedRate, type AllowedRate } from './allowed-rate.ts';

/** One group as the operator sees it: local row, sync progress, and what blocks it. */
export interface GroupStatus {
  id: string;
  /** Null when the row was deleted locally and its remote deletion is still pending. */
  name: string | null;
  exists: boolean;
  afilnetId: string | null;
  members: number;
  synced: number;
  /** Dirty marks: members whose remote copy may differ. */
  pending: number;
  failed: number;
  /** Sum of open holds' counts (deletes waiting for approve-deletes). */
  heldDeletes: number;
  /**
   * Each open hold: member deletes, the group's deletion, or a column (`subject`) and the values
   * it holds. What approve-deletes would release.
   */
  holds: { kind: string; subject: string | null; count: number }[];
  status: string | null;
  lastError: string | null;
  lastSyncAt: string | null;
  /** A creategroup of unknown outcome may have left this unlinked remote group behind. */
  orphanNote: string | null;
  /** Null unless the group is defined by a segment (`groups.segment`). */
  segment: SegmentStatus | null;
}

/** A segment group's last whole evaluation, and its last failure (a run-time error, a timeout). */
export interface SegmentStatus {
  expression: string;
  /** Contacts it matches now (its members: incremental evaluations keep them current). */
  size: number;
  /** Contacts it matched at its last whole evaluation. */
  sizeAtEvaluation: number;
  lastEvaluatedAt: string | null;
  durationMs: number | null;
  timeDependent: boolean;
  error: string | null;
  errorAt: string | null;
}

export interface StatusReport {
  groups: GroupStatus[];
  /** BullMQ job counts of the group-sync queue; null when no queue was given. */
  queue: Record<string, number> | null;
  lag: {
    outboxRows: number;
    oldestOutboxAgeMs: number | null;
    dirtyMarks: number;
    oldestDirtyAgeMs: number | null;
  };
  /** Null when no Redis connection was given. */
  rate: AllowedRate | null;
  /** Workers connected to the group-sync queue (BullMQ's worker list); null without a queue. */
  daemons: { workers: number } | null;
  /** Capture triggers that would miss writes (disabled, missing, not firing under replica). */
  captureProblems: string[];
  /** Afilnet refuses every call of the account (wrong password, no credit): why, since when. */
  accountPause: { reason: string } | null;
  /** Null when segment filters run as afilnet_segment; else why not, and the SQL that fixes it. */
  segmentConfinement: string | null;
  at: string;
}

export interface StatusDeps {
  pool: pg.Pool;
  queue?: GroupQueue | null;
  redis?: Redis | null;
  prefix?: string;
  /** AFILNET_RATE_LIMIT: reported when the budget has learned nothing lower. */
  rateCeiling?: number;
}

interface GroupRow {
  id: string;
  name: string | null;
  exists: boolean;
  afilnet_id: string | null;
  members: number;
  synced: number;
  pending: number;
  failed: number;
  held: number;
  hold_list: { kind: string; subject: string | null; count: number }[];
  status: string | null;
  last_error: string | null;
  last_sync_at: Date | null;
  orphan_note: string | null;
  segment: string | null;
  seg_size: number | null;
  seg_evaluated_at: Date | null;
  seg_duration_ms: number | null;
  seg_time_dependent: boolean | null;
  seg_error: string | null;
  seg_error_at: Date | null;
}

/**
 * Per group counts come from one aggregate per table, joined once, so the cost is a scan of each
 * table rather than a query per group. Groups deleted locally stay listed while sync state
 * remains for them.
 */
const GROUPS_SQL = `
WITH ids AS (SELECT id FROM groups UNION SELECT group_id FROM sync_group_state),
members AS (SELECT group_id, count(*)::int AS n FROM group_members GROUP BY group_id),
states AS (
  SELECT group_id,
         count(*) FILTER (WHERE status = 'synced' AND synced_fields IS NOT NULL)::int AS synced,
         count(*) FILTER (WHERE status = 'failed')::int AS failed
  FROM sync_member_state GROUP BY group_id),
dirty AS (SELECT group_id, count(*)::int AS n FROM sync_dirty GROUP BY group_id),
holds AS (SELECT group_id, sum(count)::int AS n,
                 jsonb_agg(jsonb_build_object('kind', kind, 'subject', subject, 'count', count)
                           ORDER BY id) AS list
          FROM sync_holds WHERE approved_at IS NULL GROUP BY group_id)
SELECT ids.id, g.name, g.id IS NOT NULL AS exists, COALESCE(g.afilnet_id, s.remote_id) AS afilnet_id,
       COALESCE(m.n, 0) AS members, COALESCE(st.synced, 0) AS synced, COALESCE(d.n, 0) AS pending,
       COALESCE(st.failed, 0) AS failed, COALESCE(h.n, 0) AS held,
       COALESCE(h.list, '[]'::jsonb) AS hold_list,
       s.status, s.last_error, s.last_sync_at, s.orphan_note,
       g.segment, seg.size AS seg_size, seg.evaluated_at AS seg_evaluated_at,
       seg.duration_ms AS seg_duration_ms, seg.time_dependent AS seg_time_dependent,
       seg.error AS seg_error, seg.error_at AS seg_error_at
FROM ids
LEFT JOIN groups g ON g.id = ids.id
LEFT JOIN sync_group_state s ON s.group_id = ids.id
LEFT JOIN members m ON m.group_id = ids.id
LEFT JOIN states st ON st.group_id = ids.id
LEFT JOIN dirty d ON d.group_id = ids.id
LEFT JOIN holds h ON h.group_id = ids.id
LEFT JOIN sync_segment_state seg ON seg.group_id = ids.id
ORDER BY ids.id`;

// Ages are computed by Postgres so the CLI's clock does not matter.
const LAG_SQL = `
SELECT (SELECT count(*) FROM sync_outbox)::int AS outbox_rows,
       (SELECT (extract(epoch FROM now() - min(created_at)) * 1000)::float8 FROM sync_outbox) AS outbox_age,
       (SELECT count(*) FROM sync_dirty)::int AS dirty_marks,
       (SELECT (extract(epoch FROM now() - min(marked_at)) * 1000)::float8 FROM sync_dirty) AS dirty_age`;

/** Everything `status` and GET /status show, as plain data. */
export async function statusReport(deps: StatusDeps): Promise<StatusReport> {
  const [groups, lag, queue, rate, workers, captureProblems, pause, confinement] =
    await Promise.all([
      deps.pool.query<GroupRow>(GROUPS_SQL),
      deps.pool.query<{
        outbox_rows: number;
        outbox_age: number | null;
        dirty_marks: number;
        dirty_age: number | null;
      }>(LAG_SQL),
      deps.queue ? deps.queue.queue.getJobCounts() : Promise.resolve(null),
      deps.redis
        ? readAllowedRate(deps.redis, deps.prefix ?? 'afilnet-sync', deps.rateCeiling ?? 10)
        : Promise.resolve(null),
      deps.queue ? deps.queue.queue.getWorkers() : Promise.resolve(null),
      captureTriggerProblems(deps.pool),
      deps.redis
        ? readAccountPause(deps.redis, deps.prefix ?? 'afilnet-sync')
        : Promise.resolve(null),
      segmentConfinementProblem(deps.pool),
    ]);
  const l = lag.rows[0];
  const age = (ms: number | null | undefined) => (ms == null ? null : Math.max(0, Math.round(ms)));
  return {
    groups: groups.rows.map((r) => ({
      id: r.id,
      name: r.name,
      exists: r.exists,
      afilnetId: r.afilnet_id,
      members: r.members,
      synced: r.synced,
      pending: r.pending,
      failed: r.failed,
      heldDeletes: r.held,
      holds: r.hold_list,
      status: r.status,
      lastError: r.last_error,
      lastSyncAt: r.last_sync_at?.toISOString() ?? null,
      orphanNote: r.orphan_note,
      segment:
        r.segment === null
          ? null
          : {
              expression: r.segment,
              size: r.members,
              sizeAtEvaluation: r.seg_size ?? 0,
              lastEvaluatedAt: r.seg_evaluated_at?.toISOString() ?? null,
              durationMs: r.seg_duration_ms,
              timeDependent: r.seg_time_dependent ?? false,
              error: r.seg_error,
              errorAt: r.seg_error_at?.toISOString() ?? null,
            },
    })),
    queue,
    lag: {
      outboxRows: l?.outbox_rows ?? 0,
      oldestOutboxAgeMs: age(l?.outbox_age),
      dirtyMarks: l?.dirty_marks ?? 0,
      oldestDirtyAgeMs: age(l?.dirty_age),
    },
    rate,
    daemons: workers ? { workers: workers.length } : null,
    captureProblems,
    accountPause: pause,
    segmentConfinement: confinement,
    at: new Date().toISOString(),
  };
}
