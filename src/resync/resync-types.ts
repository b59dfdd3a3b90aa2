import { z } from 'zod';

/** What one resync item asks for, named by the action that repairs it. */
export const RESYNC_KINDS = [
  'add',
  'delete',
  'modify',
  'duplicate',
  'adopt',
  'add_column',
  'delete_column',
  // A member missing remotely that was synced before (REMOTE_REMOVALS=respect), or one already
  // opted out: recorded, never re-added.
  'opt_out',
] as const;
export type ResyncKind = (typeof RESYNC_KINDS)[number];

/** Items per kind; kinds with none are left out. */
export type KindCounts = Partial<Record<ResyncKind, number>>;

export type RunStatus = 'planning' | 'planned' | 'applying' | 'done' | 'failed';

/**
 * Where a group of a run stands. `queued`, `reading`, `diffing`, `applying` and `failed` are
 * written as they happen; `held` and `done` are computed from the dirty marks left.
 */
export type GroupPhase =
  'queued' | 'reading' | 'diffing' | 'planned' | 'applying' | 'held' | 'done' | 'failed';

/** One group's progress inside a run. */
export interface GroupProgress {
  phase: GroupPhase;
  /** Remote contacts read so far. */
  read?: number | undefined;
  /** Members the apply marked for the worker, and how many of them are still waiting. */
  total?: number | undefined;
  remaining?: number | undefined;
  error?: string | undefined;
}

/** What a group's items did once applied: per kind, how many landed and how many failed. */
export interface AppliedCounts {
  applied: KindCounts;
  failed: KindCounts;
}

const kindCounts = z.partialRecord(z.enum(RESYNC_KINDS), z.number().int());
const groupProgress = z.object({
  phase: z.enum(['queued', 'reading', 'diffing', 'planned', 'applying', 'held', 'done', 'failed']),
  read: z.number().int().optional(),
  total: z.number().int().optional(),
  remaining: z.number().int().optional(),
  error: z.string().optional(),
});

/** A `sync_resync_runs` row as read with raw SQL, validated. */
export const runRowSchema = z.object({
  id: z.string(),
  started_at: z.date(),
  started_by: z.string(),
  dry_run: z.boolean(),
  group_ids: z.array(z.string()),
  status: z.enum(['planning', 'planned', 'applying', 'done', 'failed']),
  counts: z.record(z.string(), kindCounts),
  applied: z.record(z.string(), z.object({ applied: kindCounts, failed: kindCounts })),
  progress: z.record(z.string(), groupProgress),
  error: z.string().nullable(),
  finished_at: z.date().nullable(),
});

/** A resync run: when, who, which groups, what was planned and applied, and how it ended. */
export interface ResyncRun {
  id: string;
  startedAt: Date;
  startedBy: string;
  dryRun: boolean;
  groupIds: string[];
  status: RunStatus;
  counts: Record<string, KindCounts>;
  applied: Record<string, AppliedCounts>;
  progress: Record<string, GroupProgress>;
  error: string | null;
  finishedAt: Date | null;
}

/** One item, as shown in a report's examples. */
export interface ResyncItem {
  groupId: string;
  kind: ResyncKind;
  contactId: string | null;
  remoteId: string | null;
  mainValue: string | null;
  detail: unknown;
}
