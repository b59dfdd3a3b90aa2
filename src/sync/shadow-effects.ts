import type pg from 'pg';
import type { CallResult } from '../planner/call-outcome.ts';
import type { AddCall, LedgerAction } from '../planner/member-steps.ts';
import type { FieldValues } from '../planner/project-fields.ts';
import type { ShadowPlan, ShadowSample } from '../state/shadow-plans.ts';
import type { ExecutorEffects, MemberLedger, MemberSender } from './executor-effects.ts';

const SAMPLE_SIZE = 20;

/** The calls a shadow run would have made, gathered over its chunks. */
export class ShadowRecorder {
  readonly calls: Record<string, number> = {};
  readonly contacts: Record<string, number> = {};
  readonly sample: ShadowSample[] = [];

  /** Notes one call of `method` carrying `carried` members (or groups). */
  note(method: string, carried: number, examples: ShadowSample[] = []): void {
    this.calls[method] = (this.calls[method] ?? 0) + 1;
    this.contacts[method] = (this.contacts[method] ?? 0) + carried;
    for (const e of examples) if (this.sample.length < SAMPLE_SIZE) this.sample.push(e);
  }

  plan(groupId: string): Omit<ShadowPlan, 'plannedAt'> {
    return { groupId, calls: this.calls, contacts: this.contacts, sample: this.sample };
  }
}

/**
 * A sender that sends nothing: it records each call and answers as if Afilnet had accepted it,
 * so the executor goes on exactly as a live run would (and the shadow ledger keeps nothing).
 */
class ShadowSender implements MemberSender {
  constructor(
    private readonly recorder: ShadowRecorder,
    private readonly mainField: string,
  ) {}

  add(batch: readonly FieldValues[]): Promise<CallResult[]> {
    const examples = batch.map((f) => ({
      method: 'addcontactlist',
      main: f[this.mainField] ?? '',
    }));
    this.recorder.note('addcontactlist', batch.length, examples);
    return Promise.resolve(batch.map(() => ({ type: 'ok', remoteId: null })));
  }

  modify(remoteId: string, changed: FieldValues): Promise<CallResult> {
    this.recorder.note('modifycontact', 1, [{ method: 'modifycontact', remoteId, changed }]);
    return Promise.resolve({ type: 'ok', remoteId: null });
  }

  delete(remoteId: string): Promise<CallResult> {
    this.recorder.note('deletecontact', 1, [{ method: 'deletecontact', remoteId }]);
    return Promise.resolve({ type: 'ok', remoteId: null });
  }
}

/** A ledger that persists nothing: no mark cleared, no member state written, no write-ahead. */
class ShadowLedger implements MemberLedger {
  readonly progressed = false;
  readonly deletedCount = 0;
  readonly tally = { synced: 0, failed: 0 };
  apply(a: LedgerAction): void {
    if (a.do === 'synced' && a.method !== null) this.tally.synced++;
    if (a.do === 'failed') this.tally.failed++;
  }
  writeAhead(_pool: pg.Pool, _groupId: string, _adds: readonly AddCall[]): Promise<void> {
    return Promise.resolve();
  }
  flush(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * SYNC_MODE=shadow's effects for one group run: calls recorded into `recorder`, nothing
 * persisted, and no hold recorded by the guard (it admits every delete: the plan shows them).
 */
export function shadowEffects(recorder: ShadowRecorder, mainField: string): ExecutorEffects {
  return {
    sender: () => new ShadowSender(recorder, mainField),
    ledger: () => new ShadowLedger(),
    guard: {
      admitMemberDeletes: () => Promise.resolve(true),
      recordDeletes: () => Promise.resolve(),
    },
  };
}
