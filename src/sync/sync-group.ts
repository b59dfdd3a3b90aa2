import { TransientSyncError } from '../gateway/api-caller.ts';
import { mainFieldOf } from '../planner/project-fields.ts';
import { advanceCursor, loadDirtyMembers, START_CURSOR } from '../state/dirty-marks.ts';
import {
  clearGroupDirty,
  forgetDeletedGroup,
  loadGroup,
  patchGroupState,
  type GroupSnapshot,
} from '../state/group-state.ts';
import { isGroupPaused } from '../state/group-pause.ts';
import { AccountRefusedError } from './account-refused-error.ts';
import { GroupCallStop, groupCall } from './group-calls.ts';
import { reconcileGroup, type ReconciledGroup } from './reconcile-group.ts';
import { countRemoteContacts } from './remote-counts.ts';
import { RemoteSnapshot } from './remote-snapshot.ts';
import { shadowGroupRun } from './shadow-run.ts';
import { syncGroupMembers, type ChunkResult, type MemberSyncDeps } from './sync-group-members.ts';

export interface GroupSyncDeps extends MemberSyncDeps {
  chunkSize: number;
  /** A job hands the group back to the queue after this long, so other groups get their turn. */
  sliceMs: number;
  /** True once the process drains: a run stops between chunks and hands the group back. */
  isStopping?: () => boolean;
  /**
   * Runs after the group is in step and before its members: the composition root plugs the
   * admin resync in here, so it never races the group's own sync.
   */
  beforeMembers?: (group: ReconciledGroup, deps: GroupSyncDeps) => Promise<void>;
  /** SYNC_MODE: shadow plans and records every call and sends none (src/sync/shadow-run.ts). */
  mode?: 'live' | 'shadow';
}

/** What a run did, gathered as it goes (kept when it throws), for the run history. */
export interface RunTally {
  /** Member calls by method (shadow runs: the calls they would have made). */
  calls: Record<string, number>;
  synced: number;
  failed: number;
}

export const newTally = (): RunTally => ({ calls: {}, synced: 0, failed: 0 });

function addChunk(tally: RunTally, chunk: ChunkResult): void {
  for (const [m, n] of Object.entries(chunk.calls)) tally.calls[m] = (tally.calls[m] ?? 0) + n;
  tally.synced += chunk.synced;
  tally.failed += chunk.failed;
}

/** What a run left: more work to queue. */
export interface GroupSyncOutcome {
  more: boolean;
  /** The group is paused: the run did nothing (and is not recorded in the history). */
  paused?: true;
  /** The group was recorded failed: why. */
  failed?: string;
}

/**
 * One run for one group: first the group itself (create, link, columns, country, delete), then
 * its dirty members, page by page through a cursor, so members that must wait never hold back
 * the ones behind them. Throws TransientSyncError when a retryable failure left work, and
 * AccountRefusedError when the account refuses every call.
 */
export async function syncGroup(
  deps: GroupSyncDeps,
  groupId: string,
  tally: RunTally = newTally(),
): Promise<GroupSyncOutcome> {
  const group = await loadGroup(deps.pool, groupId);
  // Paused by an operator: no group call, no member call, every mark and the dirty flag kept,
  // so resuming sends the net change (marks are net), not the history. resume re-queues it.
  if (group.state?.paused === true) return { more: false, paused: true };
  if (deps.mode === 'shadow') {
    await shadowGroupRun(deps, groupId, group, tally);
    return { more: false };
  }
  const groupDirty = group.state === null || group.state.dirty;
  if (!group.exists) {
    await deleteRemoteGroup(deps, groupId, group);
    return { more: false };
  }
  const reconciled = await reconcileGroup(deps, groupId, group, groupDirty);
  // Cleared only if no change arrived during this run (that change's run will see it).
  if (groupDirty && group.state) await clearGroupDirty(deps.pool, groupId, group.state.dirtySeq);
  if (!reconciled) return { more: false };
  await deps.beforeMembers?.(reconciled, deps);

  const main = mainFieldOf(reconciled.shape.type);
  const snapshot = new RemoteSnapshot(
    deps,
    groupId,
    reconciled.remoteId,
    main,
    reconciled.shape.fields,
  );
  const target = { ...reconciled, snapshot };
  const started = Date.now();
  let cursor = START_CURSOR;
  let progressed = false;
  let waiting = 0;
  try {
    for (;;) {
      const rows = await loadDirtyMembers(deps.pool, groupId, deps.chunkSize, cursor);
      if (rows.length === 0) break;
      cursor = advanceCursor(cursor, rows);
      const chunk = await syncGroupMembers(deps, target, rows);
      addChunk(tally, chunk);
      if (chunk.pauseAccount !== null) throw new AccountRefusedError(chunk.pauseAccount);
      if (chunk.failGroup !== null) {
        await patchGroupState(deps.pool, groupId, { status: 'failed', lastError: chunk.failGroup });
        return { more: false, failed: chunk.failGroup };
      }
      if (chunk.transient) throw new TransientSyncError('some calls failed and will be retried');
      progressed ||= chunk.progressed;
      waiting += chunk.waiting;
      if (Date.now() - started > deps.sliceMs || deps.isStopping?.()) return { more: true };
      // A pause taken while the run is under way stops it between chunks.
      if (await isGroupPaused(deps.pool, groupId)) break;
    }
  } finally {
    await snapshot.release();
  }
  // Members waiting for a main value another member gave up in this run go next.
  return { more: waiting > 0 && progressed };
}

async function deleteRemoteGroup(
  deps: GroupSyncDeps,
  groupId: string,
  group: GroupSnapshot,
): Promise<void> {
  const remoteId = group.state?.remoteId ?? null;
  if (remoteId === null) {
    await forgetDeletedGroup(deps.pool, groupId, null);
    return;
  }
  const res = await deps.pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM sync_member_state
     WHERE group_id = $1 AND (synced_fields IS NOT NULL OR remote_id IS NOT NULL OR uncertain)`,
    [groupId],
  );
  const known = res.rows[0]?.n ?? 0;
  try {
    // The remote group may hold far more than the database knows (a linked group): the guard
    // reads its size when what is known would not hold the delete.
    const verdict = await deps.guard.admitGroupDelete(groupId, known, () =>
      countRemoteContacts(deps, remoteId),
    );
    if (!verdict.admitted) {
      // Stays dirty: the sweep re-checks the hold, and an approval proceeds without a new event.
      await patchGroupState(deps.pool, groupId, {
        status: 'held',
        dirty: true,
        lastError: `deletegroup held by the mass-deletion guard (${verdict.count} contacts): approve with approve-deletes`,
      });
      return;
    }
    await groupCall(deps.caller, 'deletegroup', () => deps.client.deletegroup(remoteId));
  } catch (err) {
    if (!(err instanceof GroupCallStop)) throw err;
    if (err.outcome.kind === 'pause') throw new AccountRefusedError(err.outcome.reason);
    if (err.outcome.kind === 'fail' || err.outcome.kind === 'warn') {
      await patchGroupState(deps.pool, groupId, {
        status: 'failed',
        lastError: err.outcome.reason,
      });
      return;
    }
    throw new TransientSyncError('deletegroup failed; will retry');
  }
  await deps.guard.groupDeleted(groupId);
  await forgetDeletedGroup(deps.pool, groupId, remoteId);
}
