import type { Admission } from './admit-main-values.ts';
import type { CallOutcome, CallResult, MemberCall } from './call-outcome.ts';
import type { MemberOp, MemberSnapshot } from './plan-member-sync.ts';
import type { FieldValues } from './project-fields.ts';
import type { LookupNeed, Settlement } from './settle-member.ts';

/**
 * The member pipeline's routing, as pure functions: after each decision (plan, admission,
 * settlement, answer) the next step for the member. The executor only dispatches steps.
 */

/** A dirty mark as read: cleared only if still at this seq. */
export interface MarkRef {
  contactId: string;
  seq: string;
}

interface Base {
  mark: MarkRef;
  bulk: boolean;
}
export type AddCall = Base & { kind: 'add'; fields: FieldValues; main: string };
export type ModifyCall = Base & {
  kind: 'modify';
  remoteId: string;
  fields: FieldValues;
  main: string;
  changed: FieldValues;
  /** A stray copy deleted once the member owns another one (settle's replace). */
  drop: string | null;
};
export type DeleteCall = Base & {
  kind: 'delete';
  remoteId: string;
  /** The member stays: its copy is deleted to free its main value (numbers swapped). */
  release: boolean;
  /** A stray copy of a member that owns another one now: the member's state is not touched. */
  stray?: boolean;
  /** The member's input is bad: once its stale copy is gone, it is recorded failed with this. */
  failAfter?: string;
};
export type Call = AddCall | ModifyCall | DeleteCall;

export type Lookup = Base & {
  need: LookupNeed;
  remoteId: string | null;
  /** The member stays: its copy, if found, is deleted to free its main value. */
  release?: boolean;
  /** The member's input is bad: its stale copy, if found, is deleted, then it is failed. */
  failAfter?: string;
};
export type Claimant = Base & { op: Extract<MemberOp, { kind: 'add' | 'resolve' | 'modify' }> };

/** What to write for a member (the ledger's vocabulary). */
export type LedgerAction =
  | {
      do: 'synced';
      mark: MarkRef;
      remoteId: string | null;
      fields: FieldValues;
      main: string;
      method: string | null;
      result: string | null;
    }
  | {
      do: 'failed';
      mark: MarkRef;
      method: string | null;
      error: string;
      /** Its remote copy is gone too (a stale copy deleted). */
      clearCopy?: boolean;
    }
  /** Gone locally and remotely. */
  | { do: 'forget'; mark: MarkRef }
  /** Removed in Afilnet while still a member: recorded as opted out, never re-added. */
  | { do: 'opted-out'; mark: MarkRef; main: string }
  /** Nothing to do: the mark is done. */
  | { do: 'settled'; mark: MarkRef }
  /** Known not to be remote while still a member: the mark stays, the next pass adds it. */
  | { do: 'not-remote'; contactId: string }
  /** A write-ahead call not applied or never sent: back to what was known. */
  | { do: 'unsent'; contactId: string }
  /** Leave the write-ahead mark (uncertain) for a look-up next pass. */
  | { do: 'keep' };

export type Step =
  | { kind: 'write'; action: LedgerAction }
  | { kind: 'call'; call: Call }
  | { kind: 'lookup'; lookup: Lookup }
  | { kind: 'claim'; claimant: Claimant }
  /** Record the member now, and delete a stray copy of it. */
  | { kind: 'write-and-call'; action: LedgerAction; call: DeleteCall }
  | { kind: 'wait' };

const write = (action: LedgerAction): Step => ({ kind: 'write', action });

/** The first step after planning. */
export function stepAfterPlan(
  member: MemberSnapshot & { seq: string; bulk: boolean; status: string | null },
  op: MemberOp,
  mainField: string,
): Step {
  const mark = { contactId: member.contactId, seq: member.seq };
  const bulk = member.bulk;
  switch (op.kind) {
    case 'none': {
      if (op.forget) return write({ do: 'forget', mark });
      const fields = member.syncedFields;
      // A member that failed before and now needs nothing (the cause was fixed remotely); not an
      // opted-out one, whose remote copy is gone whatever its state remembers.
      if (member.status !== 'synced' && fields && member.optedOut !== true) {
        const main = fields[mainField] ?? '';
        return write({
          do: 'synced',
          mark,
          remoteId: member.remoteId,
          fields,
          main,
          method: null,
          result: null,
        });
      }
      return write({ do: 'settled', mark });
    }
    case 'invalid': {
      const error = `${op.code}: ${op.reason}`;
      const stale = op.staleCopy;
      if (stale?.remoteId) {
        const call: DeleteCall = {
          kind: 'delete',
          mark,
          bulk,
          remoteId: stale.remoteId,
          release: false,
        };
        return { kind: 'call', call: { ...call, failAfter: error } };
      }
      if (stale?.main) {
        const need: LookupNeed = { kind: 'absent', main: stale.main };
        return { kind: 'lookup', lookup: { mark, bulk, remoteId: null, need, failAfter: error } };
      }
      return write({ do: 'failed', mark, method: null, error });
    }
    case 'delete':
      if (op.remoteId !== null) {
        return {
          kind: 'call',
          call: { kind: 'delete', mark, bulk, remoteId: op.remoteId, release: false },
        };
      }
      if (op.main === null) return write({ do: 'forget', mark });
      return {
        kind: 'lookup',
        lookup: { mark, bulk, remoteId: null, need: { kind: 'absent', main: op.main } },
      };
    case 'add':
    case 'resolve':
      return { kind: 'claim', claimant: { mark, bulk, op } };
    case 'modify':
      if (op.previousMain !== op.main) return { kind: 'claim', claimant: { mark, bulk, op } };
      return modifyOrLookup(mark, bulk, op);
  }
}

/** The step after a claimant's main value was admitted (or not). */
export function stepAfterAdmission(c: Claimant, admission: Admission, mainField: string): Step {
  const { mark, bulk, op } = c;
  switch (admission.kind) {
    case 'wait':
      return { kind: 'wait' };
    case 'duplicate':
      return write({
        do: 'failed',
        mark,
        method: null,
        error: `DUPLICATE_MAIN_FIELD: contact ${admission.holder} of this group already has ${mainField} ${op.main}`,
        // A copy not confirmed as this member's (an add of unknown outcome, a link not yet looked
        // up) is not claimed any more: the member that keeps the value adopts it if it exists.
        ...(op.kind === 'modify' ? {} : { clearCopy: true }),
      });
    case 'release': {
      const remoteId = op.kind === 'add' ? null : op.remoteId;
      if (remoteId !== null)
        return { kind: 'call', call: { kind: 'delete', mark, bulk, remoteId, release: true } };
      const previous = op.kind === 'add' ? null : op.previousMain;
      return {
        kind: 'lookup',
        lookup: { mark, bulk, remoteId, release: true, need: { kind: 'absent', main: previous } },
      };
    }
    case 'go':
      if (op.kind === 'add')
        return {
          kind: 'call',
          call: { kind: 'add', mark, bulk, fields: op.fields, main: op.main },
        };
      if (op.kind === 'modify') return modifyOrLookup(mark, bulk, op);
      return { kind: 'lookup', lookup: presentLookup(mark, bulk, op) };
  }
}

/** The step after a look-up settled a member. */
export function stepAfterSettle(l: Lookup, s: Settlement): Step {
  const { mark, bulk, need } = l;
  const release = l.release === true;
  const failAfter = l.failAfter;
  if (s.kind === 'forget') {
    if (failAfter !== undefined) {
      return write({ do: 'failed', mark, method: null, error: failAfter, clearCopy: true });
    }
    return write(
      release ? { do: 'not-remote', contactId: mark.contactId } : { do: 'forget', mark },
    );
  }
  if (s.kind === 'wait') return { kind: 'wait' };
  if (s.kind === 'delete') {
    const call: DeleteCall = { kind: 'delete', mark, bulk, remoteId: s.remoteId, release };
    return { kind: 'call', call: failAfter === undefined ? call : { ...call, failAfter } };
  }
  if (need.kind !== 'present') return write({ do: 'settled', mark });
  if (s.kind === 'add')
    return {
      kind: 'call',
      call: { kind: 'add', mark, bulk, fields: need.fields, main: need.main },
    };
  const drop = s.kind === 'replace' ? s.drop : null;
  const { fields, main } = need;
  const adopted = (remoteId: string): LedgerAction => ({
    do: 'synced',
    mark,
    remoteId,
    fields,
    main,
    method: 'getcontacts',
    result: 'adopted',
  });
  const changed = s.kind === 'adopt' ? {} : s.changed;
  if (Object.keys(changed).length === 0) {
    if (drop === null) return write(adopted(s.remoteId));
    // The holder already says it all: no modify (an empty one would be refused), only the stray.
    return {
      kind: 'write-and-call',
      action: adopted(s.remoteId),
      call: { kind: 'delete', mark, bulk, remoteId: drop, release: false, stray: true },
    };
  }
  return {
    kind: 'call',
    call: { kind: 'modify', mark, bulk, remoteId: s.remoteId, fields, main, changed, drop },
  };
}

/** The method a call uses. */
export function methodOf(call: Call): MemberCall {
  return call.kind === 'add'
    ? 'addcontactlist'
    : call.kind === 'modify'
      ? 'modifycontact'
      : 'deletecontact';
}

/** What the operator chose for contacts removed in Afilnet (REMOTE_REMOVALS). */
export type RemoteRemovals = 'respect' | 'readd';

/**
 * What to write after a call's outcome. Under `respect`, a modify answered "no such contact"
 * (deleted in the panel, unsubscribed) records an opt-out instead of re-adding the member.
 */
export function actionAfterCall(
  call: Call,
  answer: CallResult,
  o: CallOutcome,
  removals: RemoteRemovals = 'readd',
): LedgerAction {
  // A stray's fate never changes its member: at worst the stray stays behind.
  if (call.kind === 'delete' && call.stray === true) return { do: 'keep' };
  const { mark } = call;
  const method = methodOf(call);
  switch (o.member) {
    case 'synced': {
      if (call.kind === 'delete') return { do: 'keep' };
      const remoteId =
        call.kind === 'modify' ? call.remoteId : answer.type === 'ok' ? answer.remoteId : null;
      const result = remoteId && call.kind === 'add' ? `idcontact ${remoteId}` : 'SUCCESS';
      return { do: 'synced', mark, remoteId, fields: call.fields, main: call.main, method, result };
    }
    case 'gone':
      if (call.kind === 'delete' && call.failAfter !== undefined) {
        return { do: 'failed', mark, method: null, error: call.failAfter, clearCopy: true };
      }
      if (call.kind === 'modify' && removals === 'respect') {
        return { do: 'opted-out', mark, main: call.main };
      }
      return call.kind === 'delete' && !call.release
        ? { do: 'forget', mark }
        : { do: 'not-remote', contactId: mark.contactId };
    case 'failed':
      return { do: 'failed', mark, method, error: o.error ?? 'refused' };
    case 'unchanged':
      return call.kind === 'add'
        ? { do: 'not-remote', contactId: mark.contactId }
        : { do: 'unsent', contactId: mark.contactId };
    case 'uncertain':
      return { do: 'keep' };
  }
}

/** What to write for a call never sent (the chunk stopped first). */
export function actionUnsent(call: Call): LedgerAction {
  if (call.kind === 'delete' && call.stray === true) return { do: 'keep' };
  return call.kind === 'add'
    ? { do: 'not-remote', contactId: call.mark.contactId }
    : { do: 'unsent', contactId: call.mark.contactId };
}

function modifyOrLookup(
  mark: MarkRef,
  bulk: boolean,
  op: Extract<MemberOp, { kind: 'modify' }>,
): Step {
  if (op.remoteId === null) return { kind: 'lookup', lookup: presentLookup(mark, bulk, op) };
  const { fields, main, changed, remoteId } = op;
  return {
    kind: 'call',
    call: { kind: 'modify', mark, bulk, remoteId, fields, main, changed, drop: null },
  };
}

function presentLookup(
  mark: MarkRef,
  bulk: boolean,
  op: Extract<MemberOp, { kind: 'modify' | 'resolve' }>,
): Lookup {
  return {
    mark,
    bulk,
    remoteId: op.remoteId,
    need: { kind: 'present', fields: op.fields, main: op.main, previousMain: op.previousMain },
  };
}
