import type { Queryable } from './queryable.ts';

/** One sampled call of a shadow plan: the method and the member it names. */
export interface ShadowSample {
  method: string;
  /** The main value (adds, modifies) or the remote id (deletes) the call would carry. */
  main?: string;
  remoteId?: string;
  /** The fields a modify would change. */
  changed?: Record<string, string>;
}

/** What a group's last shadow run would have sent. */
export interface ShadowPlan {
  groupId: string;
  plannedAt: string;
  /** API calls per method. */
  calls: Record<string, number>;
  /** Members (or groups) those calls carry, per method. */
  contacts: Record<string, number>;
  sample: ShadowSample[];
}

/**
 * Replaces a group's shadow plan with its latest run's: marks are net, so each run's plan is the
 * whole of what switching to live would send now, not an increment. Not sync state: nothing
 * reads it to decide a call.
 */
export async function saveShadowPlan(
  db: Queryable,
  plan: Omit<ShadowPlan, 'plannedAt'>,
): Promise<void> {
  await db.query(
    `INSERT INTO sync_shadow_plans (group_id, planned_at, calls, contacts, sample)
     VALUES ($1, now(), $2, $3, $4)
     ON CONFLICT (group_id) DO UPDATE SET planned_at = now(), calls = excluded.calls,
       contacts = excluded.contacts, sample = excluded.sample`,
    [plan.groupId, plan.calls, plan.contacts, JSON.stringify(plan.sample)],
  );
}

/** Shadow plans, of one group or all. */
export async function readShadowPlans(
  db: Queryable,
  groupId: string | null,
): Promise<ShadowPlan[]> {
  const res = await db.query<{
    group_id: string;
    planned_at: Date;
    calls: Record<string, number>;
    contacts: Record<string, number>;
    sample: ShadowSample[];
  }>(
    `SELECT group_id, planned_at, calls, contacts, sample FROM sync_shadow_plans
     WHERE $1::text IS NULL OR group_id = $1 ORDER BY group_id`,
    [groupId],
  );
  return res.rows.map((r) => ({
    groupId: r.group_id,
    plannedAt: r.planned_at.toISOString(),
    calls: r.calls,
    contacts: r.contacts,
    sample: r.sample,
  }));
}

/** Forgets every shadow plan: a live daemon sends, so what shadow runs planned is history. */
export async function clearShadowPlans(db: Queryable): Promise<void> {
  await db.query('DELETE FROM sync_shadow_plans');
}
