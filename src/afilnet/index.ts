/**
 * The Afilnet Contacts API client: `AfilnetClient`, its typed errors and the contact encoder.
 * Everything outside src/afilnet imports from here.
 */
export { AfilnetClient } from './afilnet-client.ts';
export type {
  AfilnetClientOptions,
  AfilnetHooks,
  CallInfo,
  CallOutcome,
  CreateGroupInput,
  StreamContactsOptions,
} from './client-options.ts';
export { classifyFailure, parseRetryAfter, type AfilnetFailure } from './classify.ts';
export { assertFieldName, encodeContact } from './encode-contact.ts';
export {
  AfilnetAmbiguousError,
  AfilnetApiError,
  AfilnetError,
  AfilnetProtocolError,
  AfilnetRetryableError,
  ContactEncodingError,
  DOCUMENTED_ERROR_CODES,
  type AfilnetErrorCode,
  type AfilnetErrorKind,
  type AmbiguousReason,
  type ContactEncodingProblem,
  type RetryableReason,
} from './errors.ts';
export { AFILNET_METHODS, type AfilnetMethod } from './methods.ts';
export {
  ACCOUNT_ERROR_CODES,
  GROUP_ERROR_CODES,
  apiErrorScope,
  type AfilnetErrorScope,
} from './error-scope.ts';
export type {
  ContactListResult,
  RemoteContact,
  UnreadableContact,
  UnreadableReason,
} from './result-shapes.ts';
