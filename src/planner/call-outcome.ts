/** The member calls the executor makes. */
export type MemberCall = 'addcontactlist' | 'modifycontact' | 'deletecontact';

/** What came back from one call, as plain data (the executor classifies the error once). */
export type CallResult =
  | { type: 'ok'; remoteId: string | null }
  /** addcontactlist reported the contact already there: an earlier try reached the provider. */
  | { type: 'skipped' }
  | { type: 'api'; code: string; scope: 'account' | 'group' | 'call' }
  /** The request may have been applied (lost answer, HTTP 5xx, unreadable answer). */
  | { type: 'ambiguous' }
  /** Not applied, and worth trying again later (could not connect, retries used up). */
  | { type: 'retryable' }
  /** The values cannot be written in the call's form (`,` or `:` in modifycontact). */
  | { type: 'unencodable'; reason: string };

/** What to make of the member after the call. */
export type MemberAfter =
  /** Remote copy confirmed as sent. */
  | 'synced'
  /** Remote copy unknown: the next pass settles it with a look-up. */
  | 'uncertain'
  /** Remote copy as it was before the call (the call was not applied). */
  | 'unchanged'
  /** Remote copy gone: for a removed member, forget it; for a present one, add it again. */
  | 'gone'
  /** The input is refused: recorded for the operator, the remote copy as it was. */
  | 'failed';

export interface CallOutcome {
  member: MemberAfter;
  /** The member's dirty mark is done with (else it stays and is read again). */
  clearMark: boolean;
  /** The job should back off and run again (a retryable failure left work). */
  retry: boolean;
  /** Split the batch to find the record the provider refuses (addcontactlist only). */
  split: boolean;
  /** Recorded on the member when it failed. */
  error: string | null;
  /** Every call of the account fails alike: stop, pause the account, keep every mark. */
  pauseAccount: string | null;
  /** The remote group cannot be used: stop, record this on the group, keep the marks. */
  failGroup: string | null;
}

const base: CallOutcome = {
  member: 'unchanged',
  clearMark: false,
  retry: false,
  split: false,
  error: null,
  pauseAccount: null,
  failGroup: null,
};
const of = (over: Partial<CallOutcome>): CallOutcome => ({ ...base, ...over });

/**
 * The one table from (method, answer) to what happens next. Pure. `batchSize` is the size of the
 * addcontactlist batch the answer belongs to. An account-wide or group-wide refusal never fails
 * members (a rotated password must not turn 500 members into 500 failures and 1,000 calls); a
 * maybe-applied call is settled by a look-up before anything is re-sent.
 */
export function callOutcome(method: MemberCall, result: CallResult, batchSize = 1): CallOutcome {
  switch (result.type) {
    case 'ok':
      return method === 'deletecontact'
        ? of({ member: 'gone', clearMark: true })
        : of({ member: 'synced', clearMark: true });
    case 'skipped':
      return of({ member: 'uncertain' });
    case 'ambiguous':
      return of({ member: 'uncertain', retry: true });
    case 'retryable':
      return of({ member: 'unchanged', retry: true });
    case 'unencodable':
      return of({
        member: 'failed',
        clearMark: true,
        error: `UNENCODABLE_VALUE: ${result.reason}`,
      });
    case 'api':
      return apiOutcome(method, result.code, result.scope, batchSize);
  }
}

function apiOutcome(
  method: MemberCall,
  code: string,
  scope: 'account' | 'group' | 'call',
  batchSize: number,
): CallOutcome {
  if (scope === 'account') {
    return of({ pauseAccount: `${method} answered ${code}: every call of the account is refused` });
  }
  if (scope === 'group') {
    return of({
      failGroup: `${method} answered ${code}: the remote group is gone or not this account's; set groups.afilnet_id to a group the account can see (or clear it to create one), then run retry --group`,
    });
  }
  if (code === 'NOT_ACCESS_TO_CONTACT') {
    // Deleted remotely behind our back: a delete is done; a modify becomes an add next pass.
    return method === 'deletecontact'
      ? of({ member: 'gone', clearMark: true })
      : of({ member: 'gone' });
  }
  if (code === 'CONTACT_EXISTS') {
    // Another remote contact holds the value (an earlier try of ours, or one made in the panel):
    // a look-up finds which, and the member adopts or replaces it.
    return of({ member: 'uncertain' });
  }
  if (method === 'addcontactlist' && batchSize > 1) return of({ split: true });
  return of({ member: 'failed', clearMark: true, error: code });
}
