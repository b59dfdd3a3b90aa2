import { TransientSyncError } from '../gateway/api-caller.ts';
import { mainFieldOf, type GroupShape } from '../planner/project-fields.ts';
import { markMembersDirty } from '../state/dirty-marks.ts';
import { patchGroupState, type GroupSnapshot } from '../state/group-state.ts';
import { dropFieldFromStates, resetMembersForLink } from '../state/member-state.ts';
import { groupCallOutcome } from '../planner/group-call-outcome.ts';
import { AccountRefusedError } from './account-refused-error.ts';
import { callResultOf } from './call-result.ts';
import type { GuardVerdict } from './delete-guard.ts';
import { GroupCallStop, groupCall } from './group-calls.ts';
import { countColumnValues } from './remote-counts.ts';
import type { MemberSyncDeps } from './sync-group-members.ts';

/** What members sync against once the group itself is in step. */
export interface ReconciledGroup {
  groupId: string;
  remoteId: string;
  shape: GroupShape;
}

/**
 * Brings the remote group to the row's declared shape: create (written ahead) or link, columns,
 * country. Returns what members sync against, or null when the group cannot be synced now (the
 * reason is recorded on the group). Throws TransientSyncError to retry later and
 * AccountRefusedError when the account refuses every call.
 */
export async function reconcileGroup(
  deps: MemberSyncDeps,
  groupId: string,
  group: GroupSnapshot,
  groupDirty: boolean,
): Promise<ReconciledGroup | null> {
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
  const patch = (p: Parameters<typeof patchGroupState>[2]) =>
    patchGroupState(deps.pool, groupId, p);
  if (!groupDirty && state?.status === 'failed') return null;
  if (!groupDirty && state?.remoteId) {
    return { groupId, remoteId: state.remoteId, shape: shapeOf(state.syncedFields) };
  }

  let remoteId = state?.remoteId ?? null;
  let synced = state?.syncedFields ?? null;
  const warnings: string[] = [];
  const held: string[] = [];
  const columnVerdicts = new Map<string, GuardVerdict & { reason: string | null }>();
  try {
    if (group.afilnetId && group.afilnetId !== remoteId) {
      // A person linked this row to an existing remote group: learn its columns, and settle every
      // member by a look-up rather than adding duplicates.
      const linked = group.afilnetId;
      synced = await groupCall(deps.caller, 'getgroupcolumns', () =>
        deps.client.getgroupcolumns(linked),
      );
      const remoteOnly = (synced ?? []).filter((f) => !fields.includes(f) && f !== main);
      if (remoteOnly.length > 0) {
        // Columns the row does not name may hold data only Afilnet has: counted (one read) and
        // held before the link is recorded, so a retry never takes them for the row's own.
        const values = await countColumnValues(deps, linked, remoteOnly);
        for (const f of remoteOnly) {
          const found = { remoteOnly: true, values: values.get(f) ?? 0 };
          columnVerdicts.set(f, await deps.guard.admitColumnDelete(groupId, f, found));
        }
      }
      remoteId = linked;
      await resetMembersForLink(deps.pool, groupId, main);
      await patch({ remoteId, type, name: group.name, syncedFields: synced, orphanNote: null });
      await markMembersDirty(deps.pool, groupId, null);
    }
    if (!remoteId) {
      const created = await createGroup(deps, groupId, group, type, fields);
      if (created === null) return null;
      remoteId = created;
      synced = fields;
    }
    if (state?.type && state.type !== type) {
      await fail(
        `type changed from ${state.type} to ${type}: Afilnet cannot change a group's type; set it back, or create a new group`,
      );
      return null;
    }
    if (!group.fields.includes(main)) {
      warnings.push(`fields must include the main field "${main}"; the remote column is kept`);
    }
    synced ??= fields;
    const target = remoteId;
    const added = fields.filter((f) => !synced?.includes(f));
    const removed = synced.filter((f) => !fields.includes(f) && f !== main);
    for (const field of added) {
      await groupCall(deps.caller, 'addcolumntogroup', () =>
        deps.client.addcolumntogroup(target, field),
      );
      synced = [...synced, field];
      await patch({ syncedFields: synced });
    }
    for (const field of removed) {
      const verdict =
        columnVerdicts.get(field) ?? (await deps.guard.admitColumnDelete(groupId, field, null));
      if (!verdict.admitted) {
        held.push(verdict.reason ?? `column "${field}" is held`);
        continue;
      }
      // Values go with the column: said in the log, never done quietly.
      deps.logger.info({ groupId, field, values: verdict.count }, 'deleting a remote column');
      await groupCall(deps.caller, 'deletecolumnfromgroup', () =>
        deps.client.deletecolumnfromgroup(target, field),
      );
      synced = synced.filter((f) => f !== field);
      await dropFieldFromStates(deps.pool, groupId, field);
      await patch({ syncedFields: synced });
    }
    if (added.length > 0) await markMembersDirty(deps.pool, groupId, null);
    const country = group.countryIso3?.toLowerCase() ?? null;
    if (country && country !== (state?.syncedCountry ?? null)) {
      try {
        await groupCall(deps.caller, 'assigncountrytogroup', () =>
          deps.client.assigncountrytogroup(target, country),
        );
      } catch (err) {
        if (!(err instanceof GroupCallStop && err.outcome.kind === 'warn')) throw err;
        warnings.push(`country_iso3 "${country}": ${err.outcome.reason}`);
      }
      await patch({ syncedCountry: country });
    }
    const remoteName = state?.name ?? group.name;
    if (remoteName !== null && group.name !== remoteName) {
      warnings.push(
        `renamed locally to "${group.name}"; Afilnet has no rename method, the remote group keeps "${remoteName}"`,
      );
    }
  } catch (err) {
    if (!(err instanceof GroupCallStop)) throw err;
    const { outcome } = err;
    if (outcome.kind === 'pause') throw new AccountRefusedError(outcome.reason);
    if (outcome.kind === 'fail' || outcome.kind === 'warn') {
      await fail(outcome.reason);
      return null;
    }
    throw new TransientSyncError(`${err.method} failed; will retry`);
  }
  // A held column leaves the group `held`: approve-deletes marks it dirty and this runs again.
  const notes = [...held, ...warnings];
  await patch({
    status: held.length > 0 ? 'held' : warnings.length > 0 ? 'warning' : 'ok',
    lastError: notes.length > 0 ? notes.join('; ') : null,
    synced: true,
  });
  return { groupId, remoteId, shape: shapeOf(synced) };

  async function fail(lastError: string): Promise<void> {
    await patch({ status: 'failed', lastError });
  }
}

/**
 * creategroup, written ahead. Afilnet has no method that lists groups, so a create whose outcome
 * is unknown (a lost answer, HTTP 5xx, a crash mid-call) cannot be settled by a look-up. It is
 * sent once more, and the group it may have made is recorded as a possible orphan (shown by
 * `status`); a second unknown outcome stops for an operator (link the group, or `retry --group`).
 * So an unknown outcome leaves at most one orphan, and the common case (a 5xx that applied
 * nothing) heals by itself.
 */
async function createGroup(
  deps: MemberSyncDeps,
  groupId: string,
  group: GroupSnapshot,
  type: 'mobile' | 'email',
  fields: string[],
): Promise<string | null> {
  const name = group.name ?? groupId;
  const patch = (p: Parameters<typeof patchGroupState>[2]) =>
    patchGroupState(deps.pool, groupId, p);
  // An operator's retry of a stopped create earns one more try.
  const orphanNote = group.state?.status === 'failed' ? null : (group.state?.orphanNote ?? null);
  const earlier = group.state?.orphanNote ?? null;
  const unknownOutcome = async (sentAt: Date): Promise<null> => {
    const note = `a creategroup sent at ${sentAt.toISOString()} may have made a remote group "${name}" that is not linked`;
    const notes = earlier ? `${earlier}; ${note}` : note;
    if (orphanNote === null) {
      await patch({ createSentAt: null, orphanNote: notes, status: 'ok', lastError: null });
      throw new TransientSyncError('creategroup outcome unknown; it is sent once more');
    }
    await patch({
      createSentAt: null,
      orphanNote: notes,
      status: 'failed',
      lastError: `creategroup's outcome is unknown twice; it is not sent again by itself: find "${name}" in Afilnet and set groups.afilnet_id to its idgroup, or run retry --group to create a new one`,
    });
    return null;
  };
  // Sent before, and its answer never recorded (the process died mid-call).
  if (group.state?.createSentAt) return unknownOutcome(group.state.createSentAt);
  const sentAt = new Date();
  await patch({ createSentAt: sentAt });
  let created: { idgroup: string | null };
  try {
    created = await deps.caller.call('creategroup', 'live', () =>
      deps.client.creategroup({ name, type, fields }),
    );
  } catch (err) {
    const result = callResultOf(err);
    const outcome = result && groupCallOutcome('creategroup', result);
    if (outcome?.kind === 'maybe-created') return unknownOutcome(sentAt);
    await patch({ createSentAt: null });
    if (outcome === null || outcome.kind === 'done') throw err;
    throw new GroupCallStop('creategroup', outcome);
  }
  if (!created.idgroup) {
    await patch({
      createSentAt: null,
      orphanNote: `creategroup made a remote group "${name}" but answered without its id`,
      status: 'failed',
      lastError:
        'creategroup answered without the new group id: find the group in Afilnet and set groups.afilnet_id to its idgroup',
    });
    return null;
  }
  const remoteId = created.idgroup;
  await patch({ createSentAt: null, remoteId, type, name: group.name, syncedFields: fields });
  await deps.pool.query('UPDATE groups SET afilnet_id = $2 WHERE id = $1 AND afilnet_id IS NULL', [
    groupId,
    remoteId,
  ]);
  return remoteId;
}
