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
  type ContactEncodingProblem,
  type RetryableReason,
} from './errors.ts';
export { AFILNET_METHODS, type AfilnetMethod } from './methods.ts';
export type { ContactListResult, RemoteContact } from './result-shapes.ts';
