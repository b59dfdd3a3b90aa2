import type { CallResult } from './call-outcome.ts';

/** The group calls a run makes. */
export type GroupCall =
  | 'creategroup'
  | 'getgroupcolumns'
  | 'addcolumntogroup'
  | 'deletecolumnfromgroup'
  | 'assigncountrytogroup'
  | 'deletegroup';

export type GroupOutcome =
  /** The call did what was asked (or its goal already holds). */
  | { kind: 'done' }
  /** Not applied: the run stops and the job retries with backoff. */
  | { kind: 'retry' }
  /** Maybe applied: creategroup may have made a group we cannot find (no method lists groups). */
  | { kind: 'maybe-created' }
  /** Every call of the account is refused: pause the account. */
  | { kind: 'pause'; reason: string }
  /** Refused for this group: recorded on it, not retried until it changes or `retry`. */
  | { kind: 'fail'; reason: string }
  /** Refused, but the group can still sync: recorded as a warning. */
  | { kind: 'warn'; reason: string };

/**
 * The one table from (group method, answer) to what happens next. Pure. A group Afilnet no
 * longer gives access to fails with a reason an operator can act on, and stops only its own group.
 */
export function groupCallOutcome(method: GroupCall, result: CallResult): GroupOutcome {
  switch (result.type) {
    case 'ok':
    case 'skipped':
      return { kind: 'done' };
    case 'retryable':
      return { kind: 'retry' };
    case 'ambiguous':
      return method === 'creategroup' ? { kind: 'maybe-created' } : { kind: 'retry' };
    case 'unencodable':
      return { kind: 'fail', reason: `${method} cannot carry the value: ${result.reason}` };
    case 'api':
      if (result.scope === 'account') {
        return {
          kind: 'pause',
          reason: `${method} answered ${result.code}: every call of the account is refused`,
        };
      }
      if (result.scope === 'group') {
        // Deleting a group that is already gone reached its goal.
        if (method === 'deletegroup') return { kind: 'done' };
        return {
          kind: 'fail',
          reason: `${method} answered ${result.code}: the remote group is gone or not this account's; set groups.afilnet_id to a group the account can see (or clear it to create a new one), then run retry --group`,
        };
      }
      if (method === 'assigncountrytogroup' && result.code === 'COUNTRY_NOT_FOUND') {
        return { kind: 'warn', reason: `country was refused by Afilnet (COUNTRY_NOT_FOUND)` };
      }
      return { kind: 'fail', reason: `${method} failed: ${result.code}` };
  }
}
