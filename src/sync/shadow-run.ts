import { mainFieldOf, type GroupShape } from '../planner/project-fields.ts';
import { advanceCursor, loadDirtyMembers, START_CURSOR } from '../state/dirty-marks.ts';
import type { GroupSnapshot } from '../state/group-state.ts';
import { saveShadowPlan } from '../state/shadow-plans.ts';
import { RemoteSnapshot } from './remote-snapshot.ts';
import { ShadowRecorder, shadowEffects } from './shadow-effects.ts';
import { syncGroupMembers } from './sync-group-members.ts';
import type { GroupSyncDeps, RunTally } from './sync-group.ts';

/**
 * One SYNC_MODE=shadow run: the group's calls it can tell without sending (create, columns,
 * delete), then every dirty member through the same executor as a live run with shadow effects.
 * Nothing is sent or persisted but the plan itself; the marks stay, so switching to live sends
 * what the last plan says (marks are net). Reads (a look-up's getcontacts) are still made.
 */
export async function shadowGroupRun(
  deps: GroupSyncDeps,
  groupId: string,
  group: GroupSnapshot,
  tally: RunTally,
): Promise<void> {
  const recorder = new ShadowRecorder();
  const remoteId = group.state?.remoteId ?? group.afilnetId;
  if (!group.exists || group.type === null) {
    if (remoteId !== null) recorder.note('deletegroup', 1);
    await saveShadowPlan(deps.pool, recorder.plan(groupId));
    return;
  }
  const main = mainFieldOf(group.type);
  const fields = [...new Set([main, ...group.fields])];
  if (remoteId === null) recorder.note('creategroup', 1);
  const known = group.state?.syncedFields ?? (remoteId === null ? [main] : fields);
  const missing = fields.filter((x) => !known.includes(x)).length;
  for (let i = 0; i < missing; i++) recorder.note('addcolumntogroup', 1);
  const shape: GroupShape = { type: group.type, fields };
  const snapshot = new RemoteSnapshot(deps, groupId, remoteId ?? '', main, fields);
  const effects = shadowEffects(recorder, main);
  let cursor = START_CURSOR;
  try {
    for (;;) {
      const rows = await loadDirtyMembers(deps.pool, groupId, deps.chunkSize, cursor);
      if (rows.length === 0) break;
      cursor = advanceCursor(cursor, rows);
      const target = { groupId, remoteId: remoteId ?? '', shape, snapshot };
      const chunk = await syncGroupMembers({ ...deps, effects }, target, rows);
      tally.synced += chunk.synced;
      tally.failed += chunk.failed;
    }
  } finally {
    await snapshot.release();
  }
  await saveShadowPlan(deps.pool, recorder.plan(groupId));
  Object.assign(tally.calls, recorder.calls);
}
