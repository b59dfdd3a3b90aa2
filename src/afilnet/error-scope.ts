/**
 * How far an API error reaches, so that callers never string-match codes:
 * - `account`: every call of this account will fail the same way until someone acts (a rotated
 *   password, an empty balance, a blocked account) — pause the account, do not fail records;
 * - `group`: the group is gone or not ours — every call on that group will fail;
 * - `call`: this call's own input or the state it met (CONTACT_EXISTS, MISSING_MAIN_FIELD, …).
 */
export type AfilnetErrorScope = 'account' | 'group' | 'call';

/**
 * Codes that concern the whole account. The first three are on the provider's Contacts API page;
 * NO_CREDITS is what the provider's other APIs answer for an empty balance. The rest are a guess
 * at names the provider could use for the same conditions (nothing published lists them): being
 * wrong here costs only an account pause that a probe ends, while missing one costs a failure on
 * every record, so the list leans wide.
 */
export const ACCOUNT_ERROR_CODES: ReadonlySet<string> = new Set([
  // documented on the Contacts API page
  'INCORRECT_USER_PASSWORD',
  'MISSING_USER',
  'MISSING_PASSWORD',
  // used by the provider's other APIs
  'NO_CREDITS',
  // guesses, not documented anywhere
  'NOT_ENOUGH_CREDITS',
  'INSUFFICIENT_CREDITS',
  'INSUFFICIENT_BALANCE',
  'NO_BALANCE',
  'ACCOUNT_BLOCKED',
  'ACCOUNT_DISABLED',
  'ACCOUNT_SUSPENDED',
  'USER_BLOCKED',
  'USER_DISABLED',
]);

/** Codes that concern one group. */
export const GROUP_ERROR_CODES: ReadonlySet<string> = new Set(['NOT_ACCESS_TO_GROUP']);

/** The scope of an (already upper-cased) API error code; anything unknown is the call's own. */
export function apiErrorScope(code: string): AfilnetErrorScope {
  if (ACCOUNT_ERROR_CODES.has(code)) return 'account';
  if (GROUP_ERROR_CODES.has(code)) return 'group';
  return 'call';
}
