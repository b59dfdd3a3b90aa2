import type pg from 'pg';
import type { AfilnetClient } from '../afilnet/index.ts';
import type { ApiCaller } from '../gateway/api-caller.ts';
import type { Priority } from '../gateway/rate-budget.ts';
import type { Logger } from '../observability/logger.ts';
import { admitMainValues } from '../planner/admit-main-values.ts';
import { callOutcome, type CallOutcome, type CallResult } from '../planner/call-outcome.ts';
import {
  actionAfterCall,
  actionUnsent,
  methodOf,
  stepAfterAdmission,
  stepAfterPlan,
  stepAfterSettle,
  type AddCall,
  type Call,
  type Claimant,
  type DeleteCall,
  type Lookup,
  type ModifyCall,
  type Step,
} from '../planner/member-steps.ts';
import type { RemoteRemovals } from '../planner/member-steps.ts';
import { planMemberSync, type PlanLimits } from '../planner/plan-member-sync.ts';
import { mainFieldOf, type GroupShape } from '../planner/project-fields.ts';
import { settleMember } from '../planner/settle-member.ts';
import type { DirtyMember } from '../state/dirty-marks.ts';
import { mainValuesHeldByOthers } from '../state/member-state.ts';
import { callResultOf } from './call-result.ts';
import { ChunkLedger } from './chunk-ledger.ts';
import type { DeleteGuard } from './delete-guard.ts';
import type { ExecutorEffects, MemberLedger, MemberSender } from './executor-effects.ts';
import { MemberCalls } from './member-calls.ts';
import type { RemoteSnapshot } from './remote-snapshot.ts';

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
  /** REMOTE_REMOVALS; unset: readd. */
  remoteRemovals?: RemoteRemovals;
  /** Where calls go and outcomes are kept; unset: live (Afilnet, Postgres). */
  effects?: ExecutorEffects;
}

export interface SyncTarget {
  groupId: string;
  remoteId: string;
  shape: GroupShape;
  /** The remote group, read when a look-up needs it, shared by the run's chunks. */
  snapshot: RemoteSnapshot;
}

/** What a chunk left behind. */
export interface ChunkResult {
  /** A retryable failure left work: the job backs off and runs again. */
  transient: boolean;
  held: number;
  progressed: boolean;
  /** Members waiting for another member to give up their main value. */
  waiting: number;
  /** Every call of the account is refused: pause it (no member failed, every mark kept). */
  pauseAccount: string | null;
  /** The remote group cannot be used: record this on the group (every mark kept). */
  failGroup: string | null;
  /** Calls sent, by method, and members recorded synced or failed (run history). */
  calls: Record<string, number>;
  synced: number;
  failed: number;
}

const priorityOf = (bulk: boolean): Priority => (bulk ? 'bulk' : 'live');

/** Afilnet through the shared budget, state in Postgres, deletes through the guard. */
function liveEffects(deps: MemberSyncDeps): ExecutorEffects {
  return {
    sender: (remoteGroupId) => new MemberCalls(deps.client, deps.caller, remoteGroupId),
    ledger: () => new ChunkLedger(),
    guard: deps.guard,
  };
}

/** A sender that counts the calls it passes on, by method. */
function counted(sender: MemberSender, calls: Record<string, number>): MemberSender {
  const count = (m: string) => (calls[m] = (calls[m] ?? 0) + 1);
  return {
    add: (batch, main, priority) => (count('addcontactlist'), sender.add(batch, main, priority)),
    modify: (id, changed, priority) => (
      count('modifycontact'),
      sender.modify(id, changed, priority)
    ),
    delete: (id, priority) => (count('deletecontact'), sender.delete(id, priority)),
  };
}

/**
 * Brings one chunk of a group's dirty members to the database's state in the fewest calls. The
 * decisions are pure (src/planner: plan → admit → settle → outcome, routed by member-steps);
 * this only reads, batches, calls and persists.
 */
export async function syncGroupMembers(
  deps: MemberSyncDeps,
  target: SyncTarget,
  rows: readonly DirtyMember[],
): Promise<ChunkResult> {
  const { groupId } = target;
  const main = mainFieldOf(target.shape.type);
  const effects = deps.effects ?? liveEffects(deps);
  const ledger = effects.ledger();
  const result: ChunkResult = {
    transient: false,
    held: 0,
    progressed: false,
    waiting: 0,
    pauseAccount: null,
    failGroup: null,
    calls: {},
    synced: 0,
    failed: 0,
  };
  const calls: Call[] = [];
  const lookups: Lookup[] = [];
  const claimants: Claimant[] = [];
  const dispatch = (step: Step): void => {
    if (step.kind === 'write') ledger.apply(step.action);
    else if (step.kind === 'call') calls.push(step.call);
    else if (step.kind === 'lookup') lookups.push(step.lookup);
    else if (step.kind === 'claim') claimants.push(step.claimant);
    else if (step.kind === 'write-and-call') {
      ledger.apply(step.action);
      calls.push(step.call);
    } else result.waiting++;
  };
  const chunkPriority = priorityOf(rows.every((r) => r.bulk));

  for (const row of rows)
    dispatch(stepAfterPlan(row, planMemberSync(target.shape, row, deps.limits), main));

  const candidates = claimants.map((c) => ({ contactId: c.mark.contactId, main: c.op.main }));
  const claims = await mainValuesHeldByOthers(deps.pool, groupId, main, candidates);
  const admitted = admitMainValues(candidates, claims);
  for (const c of claimants) {
    dispatch(stepAfterAdmission(c, admitted.get(c.mark.contactId) ?? { kind: 'go' }, main));
  }

  try {
    const found = await target.snapshot.lookup(
      lookups.map((l) => ({
        contactId: l.mark.contactId,
        remoteId: l.remoteId,
        main: l.need.main,
        previousMain: l.need.kind === 'present' ? l.need.previousMain : null,
      })),
      chunkPriority,
    );
    for (const l of lookups) {
      const matches = found.get(l.mark.contactId);
      if (matches) dispatch(stepAfterSettle(l, settleMember(l.need, matches)));
    }
  } catch (err) {
    const answer = callResultOf(err);
    if (answer === null) throw err;
    // A read changes nothing remote: every mark stays; only a stop reason or a retry matters.
    const outcome = callOutcome('deletecontact', answer);
    stopOn(result, outcome);
    result.transient = outcome.pauseAccount === null && outcome.failGroup === null;
    await ledger.flush(deps.pool, groupId);
    return tallied(result, ledger);
  }

  // The mass-deletion guard sees every delete of the chunk at once.
  const isMemberDelete = (c: Call) => c.kind === 'delete' && !c.release && c.stray !== true;
  const deletes = calls.filter(isMemberDelete);
  let sendable = calls;
  if (!(await effects.guard.admitMemberDeletes(groupId, deletes.length))) {
    result.held = deletes.length;
    sendable = calls.filter((c) => !isMemberDelete(c));
  }
  const sender = counted(effects.sender(target.remoteId), result.calls);
  await sendCalls(deps, target, sendable, { ledger, sender }, result, chunkPriority);

  result.progressed = ledger.progressed;
  const deleted = ledger.deletedCount;
  await ledger.flush(deps.pool, groupId);
  await effects.guard.recordDeletes(groupId, deleted);
  return tallied(result, ledger);
}

function tallied(result: ChunkResult, ledger: MemberLedger): ChunkResult {
  return { ...result, synced: ledger.tally.synced, failed: ledger.tally.failed };
}

/** Sends the chunk's calls (adds batched, the rest `concurrency` at a time), recording outcomes. */
async function sendCalls(
  deps: MemberSyncDeps,
  target: SyncTarget,
  calls: readonly Call[],
  { ledger, sender }: { ledger: MemberLedger; sender: MemberSender },
  result: ChunkResult,
  chunkPriority: Priority,
): Promise<void> {
  const main = mainFieldOf(target.shape.type);
  // Bulk work stops taking new calls after a short while, so live changes are read next.
  const yieldAt = chunkPriority === 'bulk' ? Date.now() + deps.bulkYieldMs : Infinity;
  const stopped = () =>
    result.pauseAccount !== null || result.failGroup !== null || Date.now() >= yieldAt;
  const settle = (call: Call, answer: CallResult, outcome: CallOutcome): void => {
    stopOn(result, outcome);
    if (outcome.retry) result.transient = true;
    ledger.apply(actionAfterCall(call, answer, outcome, deps.remoteRemovals));
  };
  const adds = calls.filter((c): c is AddCall => c.kind === 'add');
  const singles = calls.filter((c): c is ModifyCall | DeleteCall => c.kind !== 'add');
  target.snapshot.touch(calls.map((c) => c.mark.contactId));
  await ledger.writeAhead(
    deps.pool,
    target.groupId,
    adds,
    singles.filter((c) => c.kind !== 'delete' || c.stray !== true).map((c) => c.mark.contactId),
  );

  const sendAdds = async (batch: AddCall[]): Promise<void> => {
    if (stopped()) return batch.forEach((c) => ledger.apply(actionUnsent(c)));
    const fields = batch.map((c) => c.fields);
    const answers = await sender.add(fields, main, priorityOf(batch[0]?.bulk ?? false));
    const outcomes = answers.map((a) => callOutcome('addcontactlist', a, batch.length));
    if (outcomes.some((o) => o.split)) {
      const half = Math.ceil(batch.length / 2);
      await sendAdds(batch.slice(0, half));
      await sendAdds(batch.slice(half));
      return;
    }
    batch.forEach((c, i) => settle(c, answers[i] as CallResult, outcomes[i] as CallOutcome));
  };
  // A chunk's batches hold distinct members and distinct main values (admission saw to that),
  // so they go `concurrency` at a time: the calls' round trips overlap instead of adding up.
  const batches: AddCall[][] = [];
  for (let i = 0; i < adds.length; i += deps.batchSize) {
    batches.push(adds.slice(i, i + deps.batchSize));
  }
  await inLanes(batches, deps.concurrency, sendAdds);

  const sendOne = async (call: ModifyCall | DeleteCall): Promise<void> => {
    const priority = priorityOf(call.bulk);
    const answer =
      call.kind === 'delete'
        ? await sender.delete(call.remoteId, priority)
        : await sender.modify(call.remoteId, call.changed, priority);
    settle(call, answer, callOutcome(methodOf(call), answer));
    if (call.kind === 'modify' && call.drop !== null && answer.type === 'ok') {
      // The member owns another copy now: the stray goes (a failure only leaves a stray).
      const dropped = await sender.delete(call.drop, priority);
      if (dropped.type !== 'ok') {
        deps.logger.warn({ groupId: target.groupId, answer: dropped.type }, 'stray copy kept');
      }
    }
  };
  await inLanes(singles, deps.concurrency, (call) =>
    stopped() ? Promise.resolve(ledger.apply(actionUnsent(call))) : sendOne(call),
  );
}

/** Runs `work` over `items`, at most `lanes` at a time, each lane taking the next item. */
async function inLanes<T>(
  items: readonly T[],
  lanes: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) await work(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(lanes, 1), items.length) }, lane));
}

function stopOn(result: ChunkResult, o: Pick<CallOutcome, 'pauseAccount' | 'failGroup'>): void {
  result.pauseAccount ??= o.pauseAccount;
  result.failGroup ??= o.failGroup;
}
