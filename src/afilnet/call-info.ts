import type { CallInfo } from './client-options.ts';
import { AfilnetApiError, AfilnetRetryableError, type AfilnetError } from './errors.ts';
import type { AfilnetMethod } from './methods.ts';

/**
 * What `afterCall` learns about one call: how it ended and the facts a metric or an account
 * pause needs (API code and scope, the provider's delay, unreadable contacts) — never parameters
 * or answer data.
 */
export function callInfo(
  method: AfilnetMethod,
  ms: number,
  failure: AfilnetError | undefined,
  unreadableContacts = 0,
): CallInfo {
  const info: CallInfo = { method, outcome: 'success', ms };
  if (unreadableContacts > 0) info.unreadableContacts = unreadableContacts;
  if (!failure) return info;
  info.outcome = failure.kind === 'api' ? 'api_error' : failure.kind;
  if (failure instanceof AfilnetApiError) {
    info.apiCode = failure.code;
    info.apiScope = failure.scope;
  }
  if (failure instanceof AfilnetRetryableError && failure.retryAfterMs !== undefined) {
    info.retryAfterMs = failure.retryAfterMs;
  }
  return info;
}
