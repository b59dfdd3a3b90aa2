import type pg from 'pg';
import type { AddCall, LedgerAction, MarkRef } from '../planner/member-steps.ts';
import { clearMarks } from '../state/dirty-marks.ts';
import { recordOptOuts } from '../state/opt-outs.ts';
import type { MemberLedger } from './executor-effects.ts';
import {
  forgetMembers,
  forgetRemoteCopies,
  markMembersFailed,
  setUncertain,
  writeMemberStates,
  type StateWrite,
} from '../state/member-state.ts';

/**
 * What one chunk learnt, gathered while its calls run and written in one transaction at the
 * end (or at a stop), so the member state and the marks never disagree after a crash: either
 * both say the call's outcome, or neither does and the write-ahead marks settle it next time.
 */
export class ChunkLedger implements MemberLedger {
  readonly tally = { synced: 0, failed: 0 };
  private readonly done: MarkRef[] = [];
  private readonly writes: StateWrite[] = [];
  private readonly failures: { contactId: string; method: string | null; error: string }[] = [];
  private readonly forgotten: string[] = [];
  private readonly notRemote: string[] = [];
  private readonly notSent: string[] = [];
  private readonly optedOut: { contactId: string; main: string }[] = [];

  /** Work that changed something (a call answered, a mark settled). */
  get progressed(): boolean {
    return (
      this.done.length + this.writes.length + this.forgotten.length + this.notRemote.length > 0
    );
  }

  /** How many members were forgotten after their remote copy was deleted. */
  get deletedCount(): number {
    return this.forgotten.length;
  }

  /**
   * Write-ahead: until its answer is recorded, a member's remote copy is unknown (a lost answer
   * or a crash is settled by a look-up, never by trusting the old state).
   */
  async writeAhead(
    pool: pg.Pool,
    groupId: string,
    adds: readonly AddCall[],
    changing: string[],
  ): Promise<void> {
    await writeMemberStates(
      pool,
      groupId,
      adds.map((c) => ({
        contactId: c.mark.contactId,
        remoteId: null,
        fields: c.fields,
        main: c.main,
        uncertain: true,
        status: 'synced',
        method: 'addcontactlist',
        result: 'sending',
        error: null,
      })),
    );
    await setUncertain(pool, groupId, changing, true);
  }

  apply(a: LedgerAction): void {
    if (a.do === 'synced' && a.method !== null) this.tally.synced++;
    if (a.do === 'failed') this.tally.failed++;
    switch (a.do) {
      case 'synced':
        this.writes.push({
          contactId: a.mark.contactId,
          remoteId: a.remoteId,
          fields: a.fields,
          main: a.main,
          uncertain: false,
          status: 'synced',
          method: a.method,
          result: a.result,
          error: null,
        });
        this.done.push(a.mark);
        return;
      case 'failed':
        this.failures.push({ contactId: a.mark.contactId, method: a.method, error: a.error });
        if (a.clearCopy === true) this.notRemote.push(a.mark.contactId);
        this.done.push(a.mark);
        return;
      case 'forget':
        this.forgotten.push(a.mark.contactId);
        this.done.push(a.mark);
        return;
      case 'settled':
        this.done.push(a.mark);
        return;
      case 'opted-out':
        // Not remote any more, and not to be made remote again: the mark is done.
        this.optedOut.push({ contactId: a.mark.contactId, main: a.main });
        this.notRemote.push(a.mark.contactId);
        this.done.push(a.mark);
        return;
      case 'not-remote':
        this.notRemote.push(a.contactId);
        return;
      case 'unsent':
        this.notSent.push(a.contactId);
        return;
      case 'keep':
        return;
    }
  }

  /** Writes everything gathered so far in one transaction and starts afresh. */
  async flush(pool: pg.Pool, groupId: string): Promise<void> {
    const client = await pool.connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      await writeMemberStates(client, groupId, this.writes.splice(0));
      await markMembersFailed(client, groupId, this.failures.splice(0));
      await forgetMembers(client, groupId, this.forgotten.splice(0));
      await forgetRemoteCopies(client, groupId, this.notRemote.splice(0));
      await recordOptOuts(client, groupId, this.optedOut.splice(0), 'modifycontact');
      await setUncertain(client, groupId, this.notSent.splice(0), false);
      await clearMarks(client, groupId, this.done.splice(0));
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch((e: unknown) => {
        broken = e instanceof Error ? e : new Error(String(e));
      });
      throw err;
    } finally {
      client.release(broken);
    }
  }
}
