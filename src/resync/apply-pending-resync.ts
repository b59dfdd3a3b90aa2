import { clearResyncRequest } from '../state/group-state.ts';
import { AfilnetApiError, AfilnetError } from '../afilnet/index.ts';
import { TransientSyncError } from '../gateway/api-caller.ts';
import type { ReconciledGroup } from '../sync/reconcile-group.ts';
import { GroupBusyError, lockGroup } from './resync-lock.ts';
import { planGroup, ResyncRefusedError, type PlanDeps } from './plan-group.ts';
import { appendRunError, patchGroupProgress } from './resync-store.ts';

/** How long a worker waits for a dry run of the same group to finish before retrying later. */
const LOCK_WAIT_MS = 120_000;

/**
 * The worker's hook (plugged in by the composition root), called right after the group is reconciled: when a resync was requested for
 * the group (sync_group_state.resync_run_id), reads the remote group again and, in bounded
 * transactions (see apply-corrections.ts), makes the sync state say what Afilnet really holds and
 * marks the members that need a call; the request is cleared once all of them have committed. The member loop that follows in the same run then repairs them at bulk priority,
 * so the resync never races the group's own sync. Does nothing (one indexed read) otherwise.
 *
 * Retryable failures throw (the job is retried, the request stays pending); a refusal by
 * Afilnet ends the resync of this group as failed and lets the ordinary sync go on.
 */
export async function applyPendingResync(target: ReconciledGroup, deps: PlanDeps): Promise<void> {
  const { pool } = deps;
  const pending = await pool.query<{ run_id: string }>(
    `SELECT resync_run_id::text AS run_id FROM sync_group_state
     WHERE group_id = $1 AND resync_run_id IS NOT NULL`,
    [target.groupId],
  );
  const runId = pending.rows[0]?.run_id;
  if (runId === undefined) return;

  const lock = await lockGroup(pool, target.groupId, LOCK_WAIT_MS).catch((err: unknown) => {
    if (err instanceof GroupBusyError) throw new TransientSyncError(err.message);
    throw err;
  });
  let refusal: string | null = null;
  try {
    // Read again under the lock: a job that ran twice must not apply the same request twice.
    const still = await lock.client.query(
      'SELECT 1 FROM sync_group_state WHERE group_id = $1 AND resync_run_id = $2',
      [target.groupId, runId],
    );
    if (still.rowCount === 0) return;
    const logger = deps.logger.child({ resyncRunId: runId });
    await planGroup({ ...deps, logger }, lock.client, {
      runId,
      groupId: target.groupId,
      remoteId: target.remoteId,
      shape: target.shape,
      apply: true,
    });
  } catch (err) {
    if (err instanceof AfilnetApiError) refusal = `${err.method} failed: ${err.code}`;
    else if (err instanceof ResyncRefusedError) refusal = err.message;
    else if (err instanceof AfilnetError) throw new TransientSyncError(err.message);
    else throw err;
  } finally {
    await lock.release();
  }
  // Recorded once the lock session is back in the pool: holding it while waiting for another
  // connection could starve a pool whose every connection is held the same way.
  if (refusal !== null) await abandonGroup(deps, runId, target.groupId, refusal);
}

/** Ends one group's part of a run as failed and clears its request, so a new one may be made. */
async function abandonGroup(
  deps: PlanDeps,
  runId: string,
  groupId: string,
  error: string,
): Promise<void> {
  deps.logger.warn({ runId, groupId, error }, 'resync of the group failed');
  await clearResyncRequest(deps.pool, groupId, runId);
  await patchGroupProgress(deps.pool, runId, groupId, { phase: 'failed', error });
  await appendRunError(deps.pool, runId, `group ${groupId}: ${error}`);
}
