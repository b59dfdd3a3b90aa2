import type pg from 'pg';
import {
  AfilnetApiError,
  AfilnetError,
  ContactEncodingError,
  type AfilnetClient,
} from '../afilnet/index.ts';
import type { Logger } from '../observability/logger.ts';
import { planMemberSync, type MemberOp, type PlanLimits } from '../planner/plan-member-sync.ts';
import {
  changedFields,
  mainFieldOf,
  type FieldValues,
  type GroupShape,
} from '../planner/project-fields.ts';
import { TransientSyncError, type ApiCaller } from '../gateway/api-caller.ts';
import type { DeleteGuard } from './delete-guard.ts';
import {
  clearDirty,
  forgetMembers,
  mainValuesHeldByOthers,
  markMembersFailed,
  markUncertain,
  unmarkUncertain,
  writeMemberStates,
  type DirtyMember,
  type StateWrite,
} from './member-store.ts';
import type { Priority } from '../gateway/rate-budget.ts';
import type { RemoteIndex } from './remote-index.ts';

export interface MemberSyncDeps {
  pool: pg.Pool;
  client: AfilnetClient;
  caller: ApiCaller;
  guard: DeleteGuard;
  logger: Logger;
  batchSize: number;
  concurrency: number;
  limits: PlanLimits;
  /** How long a chunk of bulk work runs before it yields to live changes. */
  bulkYieldMs: number;
}

export interface SyncTarget {
  groupId: string;
  remoteId: string;
  shape: GroupShape;
  /** The remote group read at most once per job run, shared by its chunks. */
  index: RemoteIndex;
}

type Op<K extends MemberOp['kind']> = Extract<MemberOp, { kind: K }> & {
  seq: string;
  bulk: boolean;
};

const synced = (
  contactId: string,
  remoteId: string | null,
  fields: FieldValues,
  main: string,
  method: string | null,
  result: string | null,
): StateWrite => ({
  contactId,
  remoteId,
  fields,
  main,
  uncertain: false,
  status: 'synced',
  method,
  result,
  error: null,
});

/** Why a call failed, in words fit for the `errors` command. */
const describe = (err: unknown): string =>
  err instanceof AfilnetApiError ? `${err.code}` : err instanceof Error ? err.message : String(err);

/**
 * Brings one chunk of a group's dirty members to the database's state in the fewest calls: adds
 * batched through addcontactlist, one call per real change, none for a change nobody can see.
 * Returns whether a retryable failure left work behind (the job is then retried with backoff).
 */
export async function syncGroupMembers(
  deps: MemberSyncDeps,
  target: SyncTarget,
  rows: DirtyMember[],
): Promise<{ transient: boolean; held: number; progressed: boolean }> {
  const { pool, groupId } = { pool: deps.pool, groupId: target.groupId };
  const main = mainFieldOf(target.shape.type);
  const priorityOf = (bulk: boolean): Priority => (bulk ? 'bulk' : 'live');
  const chunkPriority = priorityOf(rows.every((r) => r.bulk));
  // Bulk work stops taking new calls after a short while, so live changes are read next.
  const yieldAt = chunkPriority === 'bulk' ? Date.now() + deps.bulkYieldMs : Infinity;
  const index = target.index;
  const done: { contactId: string; seq: string }[] = [];
  const writes: StateWrite[] = [];
  const failures: { contactId: string; method: string | null; error: string }[] = [];
  const forget: string[] = [];
  let transient = false;
  let held = 0;

  const adds: Op<'add'>[] = [];
  const modifies: Op<'modify'>[] = [];
  const deletes: Op<'delete'>[] = [];
  const resolves: Op<'resolve'>[] = [];
  for (const row of rows) {
    const op = { ...planMemberSync(target.shape, row, deps.limits), seq: row.seq, bulk: row.bulk };
    const mark = { contactId: row.contactId, seq: row.seq };
    switch (op.kind) {
      case 'none':
        if (op.forget) forget.push(op.contactId);
        else if (row.status !== 'synced' && row.syncedFields) {
          writes.push(
            synced(
              op.contactId,
              row.remoteId,
              row.syncedFields,
              row.syncedFields[main] ?? '',
              null,
              null,
            ),
          );
        }
        done.push(mark);
        break;
      case 'invalid':
        failures.push({ contactId: op.contactId, method: null, error: `${op.code}: ${op.reason}` });
        done.push(mark);
        break;
      case 'add':
        adds.push(op);
        break;
      case 'resolve':
        resolves.push(op);
        break;
      case 'modify':
        modifies.push(op);
        break;
      case 'delete':
        deletes.push(op);
        break;
    }
  }

  // Two members of one group with the same main field would share one remote contact.
  const claimed = await mainValuesHeldByOthers(pool, groupId, main, [...adds, ...resolves]);
  const seenMain = new Map<string, string>();
  const keep = <T extends Op<'add'> | Op<'resolve'>>(op: T): boolean => {
    const claim = claimed.get(op.contactId);
    // The holder is being deleted or renumbered: this member's turn comes after (mark kept).
    if (claim?.departing) return false;
    const holder = claim?.holder ?? seenMain.get(op.main);
    if (holder === undefined) {
      seenMain.set(op.main, op.contactId);
      return true;
    }
    failures.push({
      contactId: op.contactId,
      method: null,
      error: `DUPLICATE_MAIN_FIELD: contact ${holder} of this group already has ${main} ${op.main}`,
    });
    done.push({ contactId: op.contactId, seq: op.seq });
    return false;
  };
  const liveAdds = adds.filter(keep);
  const liveResolves = resolves.filter(keep);

  // Unknown ids and uncertain adds are settled with one read of the remote group.
  try {
    for (const op of liveResolves) {
      // By the id it may already have, else by its main value now or when it was last sent
      // (an add of unknown outcome followed by a change of number must not leave a stray).
      const found =
        (op.remoteId !== null ? await index.findById(op.remoteId, chunkPriority) : undefined) ??
        (await index.find(op.main, chunkPriority))[0] ??
        (op.previousMain !== null
          ? (await index.find(op.previousMain, chunkPriority))[0]
          : undefined);
      if (!found) {
        liveAdds.push({ ...op, kind: 'add' });
        continue;
      }
      const remote = pick(found.fields, Object.keys(op.fields).concat(target.shape.fields));
      const changed = changedFields(remote, op.fields);
      if (Object.keys(changed).length === 0) {
        writes.push(
          synced(op.contactId, found.idcontact, op.fields, op.main, 'getcontacts', 'adopted'),
        );
        done.push({ contactId: op.contactId, seq: op.seq });
      } else {
        modifies.push({
          ...op,
          kind: 'modify',
          remoteId: found.idcontact,
          previousMain: op.main,
          changed,
        });
      }
    }
    for (const op of modifies) {
      if (op.remoteId !== null) continue;
      const found = (await index.find(op.previousMain ?? op.main, chunkPriority))[0];
      if (found) op.remoteId = found.idcontact;
    }
    for (const op of deletes) {
      if (op.remoteId !== null || op.main === null) continue;
      const found = (await index.find(op.main, chunkPriority))[0];
      if (found) op.remoteId = found.idcontact;
    }
  } catch (err) {
    if (!(err instanceof AfilnetError) && !(err instanceof TransientSyncError)) throw err;
    deps.logger.warn({ err, groupId }, 'could not read the remote group; will retry');
    await flush();
    return { transient: true, held, progressed: false };
  }

  // A modify whose remote contact is gone becomes an add; a delete of nothing is forgotten.
  for (const op of modifies.filter((m) => m.remoteId === null)) {
    liveAdds.push({
      kind: 'add',
      contactId: op.contactId,
      fields: op.fields,
      main: op.main,
      seq: op.seq,
      bulk: op.bulk,
    });
  }
  const sendModifies = modifies.filter((m) => m.remoteId !== null);
  const sendDeletes: Op<'delete'>[] = [];
  for (const op of deletes) {
    if (op.remoteId === null) {
      forget.push(op.contactId);
      done.push({ contactId: op.contactId, seq: op.seq });
    } else sendDeletes.push(op);
  }
  let admittedDeletes = sendDeletes;
  if (!(await deps.guard.admitMemberDeletes(groupId, sendDeletes.length))) {
    held = sendDeletes.length;
    admittedDeletes = [];
  }

  for (let i = 0; i < liveAdds.length && Date.now() < yieldAt; i += deps.batchSize) {
    await addBatch(liveAdds.slice(i, i + deps.batchSize));
  }
  const calls = Date.now() < yieldAt ? [...sendModifies, ...admittedDeletes] : [];
  // Write-ahead: until each answer is recorded, these members' remote copies are unknown (a lost
  // answer or a crash is settled by a look-up, never by trusting the old state).
  await markUncertain(
    pool,
    groupId,
    calls.map((op) => op.contactId),
  );
  const started = await runLimited(calls, deps.concurrency, yieldAt, async (op) => {
    if (op.kind === 'modify') await modify(op);
    else await remove(op);
  });
  // Calls never sent (the chunk yielded to live work) are back to what was known before,
  // unless they were already uncertain (settled by a look-up in this run).
  const resolvedIds = new Set(liveResolves.map((op) => op.contactId));
  await unmarkUncertain(
    pool,
    groupId,
    calls
      .slice(started)
      .map((op) => op.contactId)
      .filter((id) => !resolvedIds.has(id)),
  );
  const forgotten = new Set(forget);
  const deleted = admittedDeletes.filter((op) => forgotten.has(op.contactId)).length;
  await deps.guard.recordDeletes(groupId, deleted);
  const progressed = done.length > 0 || writes.length > 0 || forget.length > 0;
  await flush();
  return { transient, held, progressed };

  async function flush(): Promise<void> {
    await writeMemberStates(pool, groupId, writes.splice(0));
    await markMembersFailed(pool, groupId, failures.splice(0));
    await forgetMembers(pool, groupId, forget.splice(0));
    await clearDirty(pool, groupId, done.splice(0));
  }

  async function addBatch(batch: Op<'add'>[]): Promise<void> {
    // Write-ahead: until the answer is recorded, these members may or may not be remote.
    await writeMemberStates(
      pool,
      groupId,
      batch.map((op) => ({
        ...synced(op.contactId, null, op.fields, op.main, 'addcontactlist', 'sending'),
        uncertain: true,
      })),
    );
    let answer;
    try {
      answer = await deps.caller.call('addcontactlist', priorityOf(batch[0]?.bulk ?? false), () =>
        deps.client.addcontactlist(
          target.remoteId,
          batch.map((op) => op.fields),
        ),
      );
    } catch (err) {
      if (err instanceof AfilnetApiError) {
        if (batch.length === 1) {
          const op = batch[0] as Op<'add'>;
          writes.push({
            ...synced(op.contactId, null, op.fields, op.main, 'addcontactlist', null),
            fields: null,
            status: 'failed',
            error: describe(err),
          });
          done.push({ contactId: op.contactId, seq: op.seq });
          return;
        }
        // Split the rejected batch to isolate the record the provider refuses.
        const half = Math.ceil(batch.length / 2);
        await addBatch(batch.slice(0, half));
        await addBatch(batch.slice(half));
        return;
      }
      if (err instanceof AfilnetError || err instanceof TransientSyncError) {
        deps.logger.warn(
          { err, groupId, size: batch.length },
          'add batch outcome unknown; will reconcile',
        );
        transient = true;
        return;
      }
      throw err;
    }
    const idByMain = new Map((answer.added ?? []).map((a) => [a.main, a.idcontact]));
    const skipped = new Set(answer.skipped.map((s) => s.index));
    batch.forEach((op, i) => {
      // Already there (an earlier try reached the provider): settled by a look-up next pass.
      if (skipped.has(i)) return;
      const id = idByMain.get(op.main) ?? null;
      writes.push(
        synced(
          op.contactId,
          id,
          op.fields,
          op.main,
          'addcontactlist',
          id ? `idcontact ${id}` : 'SUCCESS',
        ),
      );
      done.push({ contactId: op.contactId, seq: op.seq });
    });
    if (skipped.size > 0) index.invalidate();
  }

  async function modify(op: Op<'modify'>): Promise<void> {
    const remoteId = op.remoteId as string;
    try {
      await deps.caller.call('modifycontact', priorityOf(op.bulk), () =>
        deps.client.modifycontact(target.remoteId, remoteId, op.changed),
      );
      writes.push(synced(op.contactId, remoteId, op.fields, op.main, 'modifycontact', 'SUCCESS'));
      done.push({ contactId: op.contactId, seq: op.seq });
    } catch (err) {
      if (err instanceof AfilnetApiError && err.code === 'NOT_ACCESS_TO_CONTACT') {
        // Deleted remotely behind our back: forget it so the next pass adds it again.
        forget.push(op.contactId);
        transient = true;
      } else if (err instanceof AfilnetApiError || err instanceof ContactEncodingError) {
        failures.push({ contactId: op.contactId, method: 'modifycontact', error: describe(err) });
        done.push({ contactId: op.contactId, seq: op.seq });
      } else if (err instanceof AfilnetError || err instanceof TransientSyncError) {
        transient = true;
      } else throw err;
    }
  }

  async function remove(op: Op<'delete'>): Promise<void> {
    const remoteId = op.remoteId as string;
    try {
      await deps.caller.call('deletecontact', priorityOf(op.bulk), () =>
        deps.client.deletecontact(target.remoteId, remoteId),
      );
      forget.push(op.contactId);
      done.push({ contactId: op.contactId, seq: op.seq });
    } catch (err) {
      if (err instanceof AfilnetApiError && err.code === 'NOT_ACCESS_TO_CONTACT') {
        forget.push(op.contactId);
        done.push({ contactId: op.contactId, seq: op.seq });
      } else if (err instanceof AfilnetApiError) {
        failures.push({ contactId: op.contactId, method: 'deletecontact', error: describe(err) });
        done.push({ contactId: op.contactId, seq: op.seq });
      } else if (err instanceof AfilnetError || err instanceof TransientSyncError) {
        transient = true;
      } else throw err;
    }
  }
}

function pick(fields: Record<string, string>, names: string[]): FieldValues {
  const out: FieldValues = {};
  for (const name of names) {
    const value = fields[name];
    if (value !== undefined && value !== '') out[name] = value;
  }
  return out;
}

/** Runs `fn` over `items` with at most `limit` in flight. */
async function runLimited<T>(
  items: T[],
  limit: number,
  stopAt: number,
  fn: (item: T) => Promise<void>,
): Promise<number> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length && Date.now() < stopAt) await fn(items[next++] as T);
  });
  await Promise.all(lanes);
  return next;
}
