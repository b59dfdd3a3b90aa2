import { requestResync } from '../state/group-state.ts';
import type pg from 'pg';
import type { GroupQueue } from '../sync/group-queue.ts';
import { GroupBusyError, lockGroup } from './resync-lock.ts';
import { planGroup, type PlanDeps } from './plan-group.ts';
import {
  appendRunError,
  createRun,
  finishRun,
  patchGroupProgress,
  readRun,
} from './resync-store.ts';
import type { ResyncRun } from './resync-types.ts';

/** What a resync needs: the daemon's own pieces, so reads share its rate budget. */
export interface ResyncServices extends PlanDeps {
  queue: Pick<GroupQueue, 'enqueue'>;
}

export interface ResyncRequest {
  /** Groups by id; or `all` for every group that has a remote group. */
  groups?: readonly string[];
  all?: boolean;
  /** Plan and report only; nothing is changed, locally or remotely. */
  dryRun: boolean;
  /** Who asked: `user@host`, or `admin-http`. */
  startedBy: string;
  /** Told the run's id as soon as it is recorded (a dry run plans for a while after that). */
  onRunCreated?: (runId: string) => void;
}

/** The request cannot be made as asked; the message says why, group by group. */
export class ResyncRequestError extends Error {
  override name = 'ResyncRequestError';
}

/** A group's plan input, read from the database. */
interface GroupRow {
  id: string;
  type: 'mobile' | 'email';
  fields: string[];
  remote_id: string | null;
  resync_run_id: string | null;
  afilnet_id: string | null;
}

/**
 * Starts a resync. A dry run plans every group here and now (read, COPY, diff) and returns the
 * finished run. Otherwise each group's request flag is set and the group queued: its worker
 * applies the resync at the start of its next run, and `checkResyncProgress` follows it.
 * Refuses (ResyncRequestError) unknown groups, groups with no remote group yet, and groups with a
 * resync pending or being planned, before anything is recorded.
 */
export async function startResync(
  services: ResyncServices,
  request: ResyncRequest,
): Promise<ResyncRun> {
  const groups = await resolveGroups(services.pool, request);
  await refuseBusyGroups(services.pool, groups);
  const groupIds = groups.map((g) => g.id);
  if (request.dryRun) {
    const runId = await createRun(services.pool, {
      startedBy: request.startedBy,
      dryRun: true,
      groupIds,
    });
    request.onRunCreated?.(runId);
    let failed = false;
    for (const group of groups) failed = !(await dryRunGroup(services, runId, group)) || failed;
    await finishRun(services.pool, runId, failed ? 'failed' : 'planned');
    return (await readRun(services.pool, runId)) as ResyncRun;
  }

  const client = await services.pool.connect();
  let runId: string;
  try {
    await client.query('BEGIN');
    runId = await createRun(client, { startedBy: request.startedBy, dryRun: false, groupIds });
    // dirty = true as well: if the job is lost, the relay's sweep queues the group again.
    const flagged = await requestResync(client, runId, groupIds);
    if (flagged.length !== groupIds.length) {
      const took = new Set(flagged);
      const lost = groupIds.filter((g) => !took.has(g));
      throw new ResyncRequestError(`a resync was requested meanwhile for: ${lost.join(', ')}`);
    }
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
  request.onRunCreated?.(runId);
  await services.queue.enqueue(groupIds, { now: true });
  return (await readRun(services.pool, runId)) as ResyncRun;
}

/** Plans one group of a dry run; false when it failed (recorded on the run). */
async function dryRunGroup(
  services: ResyncServices,
  runId: string,
  group: GroupRow,
): Promise<boolean> {
  try {
    const lock = await lockGroup(services.pool, group.id);
    try {
      await planGroup(services, lock.client, {
        runId,
        groupId: group.id,
        remoteId: group.remote_id as string,
        shape: { type: group.type, fields: group.fields },
        apply: false,
      });
    } finally {
      await lock.release();
    }
    return true;
  } catch (err) {
    const error = err instanceof Error ? err.message : String(err);
    services.logger.warn({ runId, groupId: group.id, err }, 'resync planning failed');
    await patchGroupProgress(services.pool, runId, group.id, { phase: 'failed', error });
    await appendRunError(services.pool, runId, `group ${group.id}: ${error}`);
    return false;
  }
}

async function resolveGroups(pool: pg.Pool, request: ResyncRequest): Promise<GroupRow[]> {
  const named = [...new Set(request.groups ?? [])];
  if (request.all === true && named.length > 0) {
    throw new ResyncRequestError('give either groups or all, not both');
  }
  if (request.all !== true && named.length === 0) {
    throw new ResyncRequestError('name at least one group, or ask for all');
  }
  const res = await pool.query<GroupRow>(
    `SELECT g.id, g.type, g.fields, s.remote_id, s.resync_run_id::text AS resync_run_id,
            g.afilnet_id
     FROM groups g LEFT JOIN sync_group_state s ON s.group_id = g.id
     WHERE ($1 AND s.remote_id IS NOT NULL) OR g.id = ANY($2::text[])
     ORDER BY g.id`,
    [request.all === true, named],
  );
  const found = new Map(res.rows.map((r) => [r.id, r]));
  const problems = named.flatMap((id) => {
    const row = found.get(id);
    if (!row) return [`${id}: no such group`];
    if (row.remote_id === null) return [`${id}: not synced to Afilnet yet (no remote group)`];
    if (row.afilnet_id !== null && row.afilnet_id !== row.remote_id) {
      return [`${id}: linked to remote group ${row.afilnet_id}; let the daemon sync it first`];
    }
    return [];
  });
  if (problems.length > 0) throw new ResyncRequestError(problems.join('; '));
  // With `all`, a group whose new link the daemon has not taken up yet waits for a later run.
  const rows = res.rows.filter((r) => r.afilnet_id === null || r.afilnet_id === r.remote_id);
  if (rows.length === 0) throw new ResyncRequestError('no group has a remote group yet');
  return rows;
}

/** Refuses groups with a resync pending in a worker or being planned by another session. */
async function refuseBusyGroups(pool: pg.Pool, groups: GroupRow[]): Promise<void> {
  const problems: string[] = [];
  for (const group of groups) {
    if (group.resync_run_id !== null) {
      problems.push(`${group.id}: resync run ${group.resync_run_id} is still pending`);
      continue;
    }
    try {
      await (await lockGroup(pool, group.id)).release();
    } catch (err) {
      if (!(err instanceof GroupBusyError)) throw err;
      problems.push(`${group.id}: another resync is reading or diffing it right now`);
    }
  }
  if (problems.length > 0) throw new ResyncRequestError(problems.join('; '));
}
