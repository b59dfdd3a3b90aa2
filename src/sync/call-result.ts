import {
  AfilnetApiError,
  AfilnetError,
  AfilnetRetryableError,
  ContactEncodingError,
} from '../afilnet/index.ts';
import { AccountPausedError, TransientSyncError } from '../gateway/api-caller.ts';
import type { CallResult } from '../planner/call-outcome.ts';

/**
 * A failed member call as plain data for the outcome table, or null for an error that is not
 * about the call (a bug, a database failure): the caller rethrows those.
 */
export function callResultOf(err: unknown): CallResult | null {
  if (err instanceof AfilnetApiError) return { type: 'api', code: err.code, scope: err.scope };
  if (err instanceof ContactEncodingError) return { type: 'unencodable', reason: err.message };
  // The budget is paused for the account and the call waited too long: not sent.
  if (err instanceof AccountPausedError) {
    return { type: 'api', code: 'ACCOUNT_PAUSED', scope: 'account' };
  }
  if (err instanceof AfilnetRetryableError || err instanceof TransientSyncError) {
    return { type: 'retryable' };
  }
  // Ambiguous (connection lost after sending, HTTP 5xx) and unreadable answers: maybe applied.
  if (err instanceof AfilnetError) return { type: 'ambiguous' };
  return null;
}
