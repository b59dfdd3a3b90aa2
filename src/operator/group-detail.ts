import type pg from 'pg';
import { readGroupRuns, type GroupRun } from '../state/group-runs.ts';
import { listOptOuts, type OptOut } from '../state/opt-outs.ts';
import { readGroupControls, type GroupControls } from './group-controls.ts';
import { statusReport, type GroupStatus } from './status-report.ts';
import { UnknownGroupError } from './unknown-group.ts';

/** One group in full: its status line, controls, last runs and opt-outs. */
export type GroupDetail = GroupStatus & GroupControls & { runs: GroupRun[]; optOutList: OptOut[] };

/** What GET /groups/:id and `status --group` show of one group. Throws UnknownGroupError. */
export async function groupDetail(
  deps: { pool: pg.Pool },
  groupId: string,
  opts: { runs?: number } = {},
): Promise<GroupDetail> {
  const report = await statusReport({ pool: deps.pool });
  const status = report.groups.find((g) => g.id === groupId);
  if (!status) throw new UnknownGroupError([groupId]);
  const controls = (await readGroupControls(deps.pool)).get(groupId);
  return {
    ...status,
    paused: controls?.paused ?? null,
    optOuts: controls?.optOuts ?? 0,
    shadow: controls?.shadow ?? null,
    runs: await readGroupRuns(deps.pool, groupId, opts.runs),
    optOutList: await listOptOuts(deps.pool, groupId),
  };
}
