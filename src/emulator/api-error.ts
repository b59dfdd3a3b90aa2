/** Every error code the emulator answers with; the provider's page names each one. */
export type ApiErrorCode =
  | 'MISSING_USER'
  | 'MISSING_PASSWORD'
  | 'MISSING_CLASS'
  | 'MISSING_METHOD'
  | 'INCORRECT_USER_PASSWORD'
  | 'INCORRECT_CLASS'
  | 'INCORRECT_METHOD'
  | 'MISSING_COMPULSORY_PARAM'
  | 'INCORRECT_TYPE'
  | 'MISSING_MAIN_FIELD'
  | 'NOT_ACCESS_TO_GROUP'
  | 'NOT_ACCESS_TO_CONTACT'
  | 'COUNTRY_NOT_FOUND'
  | 'CONTACT_EXISTS';

/**
 * An API-level refusal: becomes `{"status":"ERROR","error":code}` with HTTP 200. Thrown so that a
 * check deep inside a method stops it before anything is changed.
 */
export class ApiError extends Error {
  constructor(readonly code: ApiErrorCode) {
    super(code);
    this.name = 'ApiError';
  }
}
