import {
  AfilnetAmbiguousError,
  AfilnetApiError,
  AfilnetError,
  AfilnetProtocolError,
  AfilnetRetryableError,
} from './errors.ts';
import type { AfilnetMethod } from './methods.ts';

/** Everything that can go wrong on one call, as the transport and the answer readers see it. */
export type AfilnetFailure =
  /** undici (or the socket under it) threw, before or after the request was written. */
  | { type: 'transport'; error: unknown }
  /** An HTTP status that carries no Afilnet answer worth reading (429, 5xx, …). */
  | { type: 'http'; status: number; retryAfter?: string | string[] | undefined }
  /** A well-formed `status: ERROR` answer. */
  | { type: 'api'; status: number; code: string }
  /** An answer we could not make sense of. */
  | { type: 'protocol'; status: number; reason: string };

/**
 * Failures on which we know the request never left this process: the connection was not
 * established (undici's errors: ECONNREFUSED, ENOTFOUND, UND_ERR_CONNECT_TIMEOUT), plus DNS and
 * routing failures of the same phase and a pool already closed by `close()`.
 */
const NOT_SENT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_CLOSED',
]);

const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

// Codes are identifiers; anything else in `error` might be free text echoing our parameters.
const CODE_PATTERN = /^[A-Z][A-Z0-9_]{0,63}$/;

/**
 * The one place that decides what a failure means. Every error the client throws is built here,
 * so retry policy elsewhere can rely on `kind` alone.
 */
export function classifyFailure(method: AfilnetMethod, failure: AfilnetFailure): AfilnetError {
  switch (failure.type) {
    case 'transport':
      return classifyTransport(method, failure.error);
    case 'http':
      return classifyStatus(method, failure.status, failure.retryAfter);
    case 'api': {
      const code = failure.code.trim().toUpperCase();
      return new AfilnetApiError({
        method,
        status: failure.status,
        code: CODE_PATTERN.test(code) ? code : 'UNRECOGNISED_ERROR',
      });
    }
    case 'protocol':
      return new AfilnetProtocolError({ method, status: failure.status, reason: failure.reason });
  }
}

/** Wraps anything thrown during a call; an `AfilnetError` passes through unchanged. */
export function asAfilnetError(method: AfilnetMethod, error: unknown): AfilnetError {
  return error instanceof AfilnetError ? error : classifyTransport(method, error);
}

function classifyTransport(method: AfilnetMethod, error: unknown): AfilnetError {
  const code = transportCode(error);
  if (code !== undefined && NOT_SENT_CODES.has(code)) {
    return new AfilnetRetryableError({ method, code, reason: 'not_sent' });
  }
  // Everything else (UND_ERR_SOCKET, ECONNRESET, header/body time-outs, an unknown failure) may
  // have happened after the request reached the provider: assume it may have been applied.
  const reason = code !== undefined && TIMEOUT_CODES.has(code) ? 'timeout' : 'connection_lost';
  return new AfilnetAmbiguousError({ method, code, reason });
}

function classifyStatus(
  method: AfilnetMethod,
  status: number,
  retryAfter: string | string[] | undefined,
): AfilnetError {
  if (status === 429) {
    const retryAfterMs = parseRetryAfter(retryAfter);
    return new AfilnetRetryableError({
      method,
      status,
      reason: 'rate_limited',
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    });
  }
  // A 5xx says nothing about whether the provider did the work: a proxy or gateway may answer
  // 502/504 after it did (F7). Only a reconcile can tell, so it is never retried blindly.
  if (status >= 500) return new AfilnetAmbiguousError({ method, status, reason: 'server_error' });
  return new AfilnetProtocolError({ method, status, reason: `HTTP status ${status}` });
}

// RFC 9110 §5.6.7: IMF-fixdate, RFC 850 and asctime all begin with a day name. Requiring one
// keeps Date.parse's leniency ("-5", "2026-12-01") from turning garbage into a date.
const HTTP_DATE = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*,? /i;

/**
 * Reads a `Retry-After` header: delay-seconds or an HTTP-date (RFC 9110 §10.2.3), in ms. Always
 * a finite number ≥ 0, or `undefined` for a value that is neither form (the caller's own back-off
 * applies). A date in the past gives 0. Large delays are returned as they are, even beyond
 * setTimeout's 2^31-1 ms: capping them is the caller's policy (a setting of the gateway), not a
 * parsing matter. A delay too large to be exact saturates at Number.MAX_SAFE_INTEGER ms.
 */
export function parseRetryAfter(
  header: string | string[] | undefined,
  now: number = Date.now(),
): number | undefined {
  const value = (Array.isArray(header) ? header[0] : header)?.trim();
  if (!value) return undefined;
  if (/^\d+$/.test(value)) return Math.min(Number(value) * 1000, Number.MAX_SAFE_INTEGER);
  if (!HTTP_DATE.test(value)) return undefined;
  // asctime carries no zone, yet means GMT; Date.parse would read it as local time.
  const zoned = /(GMT|UTC|[+-]\d{4})$/i.test(value) ? value : `${value} GMT`;
  const at = Date.parse(zoned);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** The error code, looking through the wrappers Node puts around connection failures. */
function transportCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const own = (error as { code?: unknown }).code;
  if (typeof own === 'string') return own;
  // With autoSelectFamily Node reports a failed connect as an AggregateError of attempts.
  if (error instanceof AggregateError) return transportCode(error.errors[0]);
  return transportCode((error as { cause?: unknown }).cause);
}
