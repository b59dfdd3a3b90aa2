import type pg from 'pg';
import { readShadowPlans, type ShadowPlan } from '../state/shadow-plans.ts';
import type { StatusReport } from './status-report.ts';

/** What operators set or the daemon found per group beyond its sync progress. */
export interface GroupControls {
  /** Paused by an operator (pause <group>): since when and by whom; null when running. */
  paused: { at: string; by: string | null } | null;
  /** Members removed in Afilnet and not re-added (REMOTE_REMOVALS=respect). */
  optOuts: number;
  /** SYNC_MODE=shadow: what the group's last run would have sent; null when none was planned. */
  shadow: Omit<ShadowPlan, 'groupId'> | null;
}

const NONE: GroupControls = { paused: null, optOuts: 0, shadow: null };

/** Per group: pause, opt-outs and shadow plan, for every group that has one. */
export async function readGroupControls(pool: pg.Pool): Promise<Map<string, GroupControls>> {
  const res = await pool.query<{
    group_id: string;
    paused_at: Date | null;
    paused_by: string | null;
    opt_outs: number;
  }>(
    `WITH o AS (SELECT group_id, count(*)::int AS n FROM sync_opt_outs GROUP BY group_id),
          p AS (SELECT group_id, paused_at, paused_by FROM sync_group_state
                WHERE paused_at IS NOT NULL)
     SELECT COALESCE(p.group_id, o.group_id) AS group_id, p.paused_at, p.paused_by,
            COALESCE(o.n, 0) AS opt_outs
     FROM p FULL JOIN o ON o.group_id = p.group_id`,
  );
  const controls = new Map<string, GroupControls>(
    res.rows.map((r) => [
      r.group_id,
      {
        paused: r.paused_at ? { at: r.paused_at.toISOString(), by: r.paused_by } : null,
        optOuts: r.opt_outs,
        shadow: null,
      },
    ]),
  );
  for (const { groupId, ...plan } of await readShadowPlans(pool, null)) {
    controls.set(groupId, { ...(controls.get(groupId) ?? NONE), shadow: plan });
  }
  return controls;
}

/** A status report whose groups also say whether they are paused and how many opted out. */
export type ControlledStatus = Omit<StatusReport, 'groups'> & {
  groups: (StatusReport['groups'][number] & GroupControls)[];
};

/** Adds each group's controls to a status report (`status` and GET /status show them). */
export async function withGroupControls(
  pool: pg.Pool,
  report: StatusReport,
): Promise<ControlledStatus> {
  const controls = await readGroupControls(pool);
  return {
    ...report,
    groups: report.groups.map((g) => ({ ...g, ...(controls.get(g.id) ?? NONE) })),
  };
}
