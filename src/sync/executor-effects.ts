import type pg from 'pg';
import type { Priority } from '../gateway/rate-budget.ts';
import type { CallResult } from '../planner/call-outcome.ts';
import type { AddCall, LedgerAction } from '../planner/member-steps.ts';
import type { FieldValues } from '../planner/project-fields.ts';

/** What sends a chunk's member calls and answers each as data (MemberCalls, live). */
export interface MemberSender {
  add(batch: readonly FieldValues[], mainField: string, priority: Priority): Promise<CallResult[]>;
  modify(remoteId: string, changed: FieldValues, priority: Priority): Promise<CallResult>;
  delete(remoteId: string, priority: Priority): Promise<CallResult>;
}

/** What a chunk learnt, and how it is persisted (ChunkLedger, live). */
export interface MemberLedger {
  readonly progressed: boolean;
  readonly deletedCount: number;
  /** Members recorded synced and failed so far (run history). */
  readonly tally: { synced: number; failed: number };
  apply(a: LedgerAction): void;
  /** Write-ahead before calls: adds and changed copies are uncertain until answered. */
  writeAhead(
    pool: pg.Pool,
    groupId: string,
    adds: readonly AddCall[],
    changing: string[],
  ): Promise<void>;
  flush(pool: pg.Pool, groupId: string): Promise<void>;
}

/** The mass-deletion guard as the executor uses it. */
export interface MemberDeleteGuard {
  admitMemberDeletes(groupId: string, count: number): Promise<boolean>;
  recordDeletes(groupId: string, count: number): Promise<void>;
}

/**
 * The executor's effects, chosen by the composition: live ones call Afilnet and persist; shadow
 * ones (SYNC_MODE=shadow) record the calls and persist nothing. The executor's logic is the same.
 */
export interface ExecutorEffects {
  sender(remoteGroupId: string): MemberSender;
  ledger(): MemberLedger;
  guard: MemberDeleteGuard;
}
