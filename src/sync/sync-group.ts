import { AfilnetApiError, AfilnetError } from '../afilnet/index.ts';
import { mainFieldOf, type GroupShape } from '../planner/project-fields.ts';
import { applyPendingResync } from '../resync/index.ts';
import { TransientSyncError } from '../gateway/api-caller.ts';
import {
  clearGroupDirty,
  forgetGroup,
  loadGroup,
  markAllMembersDirty,
  patchGroupState,
  type GroupSnapshot,
} from './group-state-store.ts';
import { learnRemoteIds, loadDirtyMembers } from './member-store.ts';
import { RemoteIndex } from './remote-index.ts';
import { syncGroupMembers, type MemberSyncDeps } from './sync-group-members.ts';

export interface GroupSyncDeps extends MemberSyncDeps {
  chunkSize: number;
  /** A job hands the group back to the queue after this long, so other groups get their turn. */
  sliceMs: number;
  /** True once the process drains: a run stops between chunks and hands the group back. */
  isStopping?: () => boolean;
}

/** What a run left: more work to queue, or a retryable failure to back off from. */
export interface GroupSyncOutcome {
  more: boolean;
}

/**
 * One run for one group: first the group itself (create, link, columns, country, delete), then
 * its dirty members, chunk by chunk. Throws TransientSyncError when a retryable failure left work.
 */
export async function syncGroup(deps: GroupSyncDeps, groupId: string): Promise<GroupSyncOutcome> {
  const group = await loadGroup(deps.pool, groupId);
  const groupDirty = group.state === null || group.state.dirty;
  if (!group.exists) {
    await deleteRemoteGroup(deps, groupId, group);
    return { more: false };
  }
  const reconciled = await reconcileGroup(deps, groupId, group, groupDirty);
  // Cleared only if no change arrived during this run (that change's run will see it).
  if (groupDirty && group.state) await clearGroupDirty(deps.pool, groupId, group.state.dirtySeq);
  if (!reconciled) return { more: false };
  const main = mainFieldOf(reconciled.shape.type);
  const target = {
    ...reconciled,
    index: new RemoteIndex(deps.client, deps.caller, reconciled.remoteId, main, (pairs) =>
      learnRemoteIds(deps.pool, groupId, pairs),
    ),
  };
  await applyPendingResync(deps, target);

  const started = Date.now();
  let includeRemovals = true;
  for (;;) {
    const rows = await loadDirtyMembers(deps.pool, groupId, deps.chunkSize, includeRemovals);
    if (rows.length === 0) return { more: false };
    const { transient, held, progressed } = await syncGroupMembers(deps, target, rows);
    if (transient) throw new TransientSyncError('some calls failed and will be retried');
    if (held > 0) includeRemovals = false;
    if (!progressed && held === 0) return { more: false };
    if (Date.now() - started > deps.sliceMs || deps.isStopping?.()) return { more: true };
  }
}

async function deleteRemoteGroup(
  deps: GroupSyncDeps,
  groupId: string,
  group: GroupSnapshot,
): Promise<void> {
  const remoteId = group.state?.remoteId;
  if (!remoteId) return forgetGroup(deps.pool, groupId);
  const res = await deps.pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM sync_member_state
     WHERE group_id = $1 AND (synced_fields IS NOT NULL OR remote_id IS NOT NULL)`,
    [groupId],
  );
  const contacts = res.rows[0]?.n ?? 0;
  if (!(await deps.guard.admitGroupDelete(groupId, contacts))) {
    // Stays dirty: the sweep re-checks the hold, and an approval proceeds without a new event.
    await patchGroupState(deps.pool, groupId, {
      status: 'held',
      dirty: true,
      lastError: `deletegroup held by the mass-deletion guard (${contacts} contacts): approve with approve-deletes`,
    });
    return;
  }
  try {
    await deps.caller.call('deletegroup', 'live', () => deps.client.deletegroup(remoteId));
  } catch (err) {
    if (!(err instanceof AfilnetApiError && err.code === 'NOT_ACCESS_TO_GROUP')) throw err;
  }
  await forgetGroup(deps.pool, groupId);
}

/**
 * Brings the remote group to the row's declared shape. Returns what members sync against, or
 * null when the group cannot be synced now (the reason is recorded on the group).
 */
async function reconcileGroup(
  deps: GroupSyncDeps,
  groupId: string,
  group: GroupSnapshot,
  groupDirty: boolean,
): Promise<{ groupId: string; remoteId: string; shape: GroupShape } | null> {
  const type = group.type as 'mobile' | 'email';
  const main = mainFieldOf(type);
  const fields = [...new Set([main, ...group.fields])];
  // Members sync against the columns the remote group has now: a field added to the row but
  // not yet to Afilnet waits for this group's own reconcile (which then marks members dirty).
  const shapeOf = (remoteColumns: readonly string[] | null): GroupShape => ({
    type,
    fields: fields.filter((f) => f === main || (remoteColumns ?? fields).includes(f)),
  });
  const state = group.state;
  const fail = async (lastError: string) => {
    await patchGroupState(deps.pool, groupId, { status: 'failed', lastError });
    return null;
  };
  if (!groupDirty && state?.status === 'failed') return null;
  if (!groupDirty && state?.remoteId) {
    return { groupId, remoteId: state.remoteId, shape: shapeOf(state.syncedFields) };
  }

  let remoteId = state?.remoteId ?? null;
  let synced = state?.syncedFields ?? null;
  const warnings: string[] = [];
  try {
    if (group.afilnetId && group.afilnetId !== remoteId) {
      // A person linked this row to an existing remote group: learn its columns, and settle every
      // member by a look-up rather than adding duplicates.
      remoteId = group.afilnetId;
      synced = await deps.caller.call('getgroupcolumns', 'live', () =>
        deps.client.getgroupcolumns(remoteId as string),
      );
      await deps.pool.query(
        `INSERT INTO sync_member_state (group_id, contact_id, uncertain, status)
         SELECT group_id, contact_id, true, 'synced' FROM group_members WHERE group_id = $1
         ON CONFLICT (group_id, contact_id) DO UPDATE
           SET uncertain = true, remote_id = NULL, synced_fields = NULL`,
        [groupId],
      );
      await patchGroupState(deps.pool, groupId, {
        remoteId,
        type,
        name: group.name,
        syncedFields: synced,
      });
      await markAllMembersDirty(deps.pool, groupId);
    }
    if (!remoteId) {
      const created = await deps.caller.call('creategroup', 'live', () =>
        deps.client.creategroup({ name: group.name ?? groupId, type, fields }),
      );
      if (!created.idgroup) {
        return fail(
          'creategroup answered without the new group id: create the group in Afilnet and set groups.afilnet_id to its idgroup',
        );
      }
      remoteId = created.idgroup;
      synced = fields;
      await patchGroupState(deps.pool, groupId, {
        remoteId,
        type,
        name: group.name,
        syncedFields: fields,
      });
      await deps.pool.query(
        'UPDATE groups SET afilnet_id = $2 WHERE id = $1 AND afilnet_id IS NULL',
        [groupId, remoteId],
      );
    }
    if (state?.type && state.type !== type) {
      return fail(
        `type changed from ${state.type} to ${type}: Afilnet cannot change a group's type; set it back, or create a new group`,
      );
    }
    if (!group.fields.includes(main)) {
      warnings.push(`fields must include the main field "${main}"; the remote column is kept`);
    }
    synced ??= fields;
    const added = fields.filter((f) => !synced?.includes(f));
    const removed = synced.filter((f) => !fields.includes(f) && f !== main);
    for (const field of added) {
      await deps.caller.call('addcolumntogroup', 'live', () =>
        deps.client.addcolumntogroup(remoteId as string, field),
      );
      synced = [...synced, field];
      await patchGroupState(deps.pool, groupId, { syncedFields: synced });
    }
    for (const field of removed) {
      await deps.caller.call('deletecolumnfromgroup', 'live', () =>
        deps.client.deletecolumnfromgroup(remoteId as string, field),
      );
      synced = synced.filter((f) => f !== field);
      await deps.pool.query(
        `UPDATE sync_member_state SET synced_fields = synced_fields - $2::text
         WHERE group_id = $1 AND synced_fields ? $2`,
        [groupId, field],
      );
      await patchGroupState(deps.pool, groupId, { syncedFields: synced });
    }
    if (added.length > 0) await markAllMembersDirty(deps.pool, groupId);
    const country = group.countryIso3?.toLowerCase() ?? null;
    if (country && country !== (state?.syncedCountry ?? null)) {
      try {
        await deps.caller.call('assigncountrytogroup', 'live', () =>
          deps.client.assigncountrytogroup(remoteId as string, country),
        );
      } catch (err) {
        if (!(err instanceof AfilnetApiError && err.code === 'COUNTRY_NOT_FOUND')) throw err;
        warnings.push(`country_iso3 "${country}" was refused by Afilnet (COUNTRY_NOT_FOUND)`);
      }
      await patchGroupState(deps.pool, groupId, { syncedCountry: country });
    }
    const remoteName = state?.name ?? group.name;
    if (remoteName !== null && group.name !== remoteName) {
      warnings.push(
        `renamed locally to "${group.name}"; Afilnet has no rename method, the remote group keeps "${remoteName}"`,
      );
    }
  } catch (err) {
    if (err instanceof AfilnetApiError) {
      return fail(`${err.method} failed: ${err.code}`);
    }
    if (err instanceof AfilnetError && err.method === 'creategroup' && err.kind !== 'retryable') {
      return fail(
        'creategroup may have been applied (the connection was lost): check Afilnet, then set groups.afilnet_id or run retry --group',
      );
    }
    if (err instanceof AfilnetError) throw new TransientSyncError(err.message);
    throw err;
  }
  await patchGroupState(deps.pool, groupId, {
    status: warnings.length > 0 ? 'warning' : 'ok',
    lastError: warnings.length > 0 ? warnings.join('; ') : null,
    synced: true,
  });
  return { groupId, remoteId, shape: shapeOf(synced) };
}
