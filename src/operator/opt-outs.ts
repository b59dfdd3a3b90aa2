import type pg from 'pg';
import { clearOptOut, listOptOuts, type OptOut } from '../state/opt-outs.ts';
import type { GroupQueue } from '../sync/group-queue.ts';
import { assertGroupsKnown } from './unknown-group.ts';

/** A contact named in `opt-outs clear` has no opt-out in that group. */
export class UnknownOptOutError extends Error {
  override name = 'UnknownOptOutError';
}

/** Every opt-out, or one group's (UnknownGroupError for a group nobody knows). */
export async function optOutReport(
  deps: { pool: pg.Pool },
  groupId: string | null,
): Promise<{ optOuts: OptOut[] }> {
  if (groupId !== null) await assertGroupsKnown(deps.pool, [groupId]);
  return { optOuts: await listOptOuts(deps.pool, groupId) };
}

/**
 * Clears an opt-out (the contact agreed again, or it was a mistake) and queues the group: the
 * member, if still one, is added again by its next run.
 */
export async function clearContactOptOut(
  deps: { pool: pg.Pool; queue: Pick<GroupQueue, 'enqueue'> },
  groupId: string,
  contactId: string,
): Promise<{ groupId: string; contactId: string; cleared: true; enqueued: boolean }> {
  await assertGroupsKnown(deps.pool, [groupId]);
  if (!(await clearOptOut(deps.pool, groupId, contactId))) {
    throw new UnknownOptOutError(`contact "${contactId}" has no opt-out in group "${groupId}"`);
  }
  await deps.queue.enqueue([groupId], { now: true });
  return { groupId, contactId, cleared: true, enqueued: true };
}
