import { apiErrorScope, type AfilnetErrorScope } from './error-scope.ts';
import type { AfilnetMethod } from './methods.ts';

/** The error codes the provider's page documents; the live API may send others. */
export const DOCUMENTED_ERROR_CODES = [
  'MISSING_USER',
  'MISSING_PASSWORD',
  'MISSING_CLASS',
  'MISSING_METHOD',
  'MISSING_COMPULSORY_PARAM',
  'INCORRECT_USER_PASSWORD',
  'INCORRECT_CLASS',
  'INCORRECT_METHOD',
  'INCORRECT_TYPE',
  'MISSING_MAIN_FIELD',
  'NOT_ACCESS_TO_GROUP',
  'COUNTRY_NOT_FOUND',
  'NOT_ACCESS_TO_CONTACT',
  'CONTACT_EXISTS',
] as const;

/** A documented code, or any other string the provider may invent (kept autocompletable). */
// `string & {}` stops TypeScript from collapsing the union into plain `string`.
export type AfilnetErrorCode = (typeof DOCUMENTED_ERROR_CODES)[number] | (string & {});

/** What a caller may do about a failure: the only retry-relevant fact an error carries. */
export type AfilnetErrorKind = 'api' | 'retryable' | 'ambiguous' | 'protocol';

interface ErrorDetails {
  method: AfilnetMethod;
  status?: number | undefined;
  code?: string | undefined;
}

/**
 * Base of every failure that crosses the Afilnet boundary. It carries the method, the HTTP status
 * and a code — never the request parameters, the answer body or a cause chain, so it can be
 * logged whole without leaking credentials or contact data.
 */
export abstract class AfilnetError extends Error {
  abstract readonly kind: AfilnetErrorKind;
  /** The `class=group` method that failed. */
  readonly method: AfilnetMethod;
  /** The HTTP status, when an answer arrived at all. */
  readonly status: number | undefined;
  /** The API error code (api kind) or the transport's error code (e.g. `ECONNRESET`). */
  readonly code: string | undefined;

  protected constructor(message: string, details: ErrorDetails) {
    super(message);
    this.name = new.target.name;
    this.method = details.method;
    this.status = details.status;
    this.code = details.code;
  }
}

/**
 * The provider answered `status: ERROR` with a code: final for this call, retrying won't help.
 * `scope` says how far it reaches (error-scope.ts), decided here once from the code.
 */
export class AfilnetApiError extends AfilnetError {
  readonly kind = 'api' as const;
  declare readonly code: AfilnetErrorCode;
  readonly scope: AfilnetErrorScope;

  constructor(details: { method: AfilnetMethod; status: number; code: AfilnetErrorCode }) {
    super(`Afilnet ${details.method} answered ERROR ${details.code}`, details);
    this.scope = apiErrorScope(details.code);
  }
}

/**
 * Why a retryable failure happened; lets the sync layer treat a rate limit differently. (A 5xx is
 * not here: it may come after the provider applied the call, so it is ambiguous.)
 */
export type RetryableReason = 'rate_limited' | 'not_sent';

/**
 * Nothing was applied, or the provider asked us to come back: safe to retry. `retryAfterMs` is the
 * provider's own delay on a 429, when it gave one.
 */
export class AfilnetRetryableError extends AfilnetError {
  readonly kind = 'retryable' as const;
  readonly reason: RetryableReason;
  readonly retryAfterMs: number | undefined;

  constructor(details: ErrorDetails & { reason: RetryableReason; retryAfterMs?: number }) {
    super(retryableMessage(details), details);
    this.reason = details.reason;
    this.retryAfterMs = details.retryAfterMs;
  }
}

function retryableMessage(d: ErrorDetails & { reason: RetryableReason; retryAfterMs?: number }) {
  const prefix = `Afilnet ${d.method}`;
  if (d.reason === 'not_sent') return `${prefix}: could not connect (${d.code ?? 'unknown'})`;
  const after = d.retryAfterMs === undefined ? '' : `, retry after ${d.retryAfterMs} ms`;
  return `${prefix}: HTTP ${d.status ?? '?'}${after}`;
}

/**
 * Why a call may or may not have been applied: the connection died after the request was written
 * (`connection_lost`), the answer did not come in time (`timeout`), or an HTTP 5xx came back —
 * which a gateway in front of the provider can send after the provider did the work.
 */
export type AmbiguousReason = 'connection_lost' | 'timeout' | 'server_error';

/**
 * The provider may have applied the call: retrying a create may duplicate, so the caller must
 * reconcile first. `status` is set for `server_error` (502, 503, …).
 */
export class AfilnetAmbiguousError extends AfilnetError {
  readonly kind = 'ambiguous' as const;
  readonly reason: AmbiguousReason;

  constructor(details: ErrorDetails & { reason: AmbiguousReason }) {
    super(ambiguousMessage(details), details);
    this.reason = details.reason;
  }
}

function ambiguousMessage(d: ErrorDetails & { reason: AmbiguousReason }): string {
  const what =
    d.reason === 'server_error'
      ? `HTTP ${d.status ?? '?'}`
      : `${d.reason === 'timeout' ? 'no answer in time' : 'connection lost after sending'} (${d.code ?? 'unknown'})`;
  return `Afilnet ${d.method}: ${what}; it may have been applied`;
}

/**
 * An answer arrived but is not one we understand (not JSON, unknown status, unexpected shape).
 * `reason` is a fixed phrase of ours, never a fragment of the body.
 */
export class AfilnetProtocolError extends AfilnetError {
  readonly kind = 'protocol' as const;
  readonly reason: string;

  constructor(details: ErrorDetails & { reason: string }) {
    super(
      `Afilnet ${details.method}: unexpected answer (HTTP ${details.status ?? '?'}): ${details.reason}`,
      details,
    );
    this.reason = details.reason;
  }
}

/** What is wrong with a field in the `field:value,…` form. */
export type ContactEncodingProblem = 'empty' | 'comma' | 'colon' | 'newline';

/**
 * A field name or value cannot be written in the `field:value,…` form (the provider has no
 * escaping). Names the field, never the value, which is personal data.
 */
export class ContactEncodingError extends Error {
  constructor(
    readonly field: string,
    readonly part: 'name' | 'value',
    readonly problem: ContactEncodingProblem,
  ) {
    super(`Contact field ${JSON.stringify(field)}: its ${part} ${describe(problem)}`);
    this.name = 'ContactEncodingError';
  }
}

function describe(problem: ContactEncodingProblem): string {
  return problem === 'empty' ? 'is empty' : `contains a ${problem}, which cannot be encoded`;
}
