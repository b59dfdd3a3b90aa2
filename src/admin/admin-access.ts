import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';

/** The admin server was asked to listen beyond this machine with nothing to protect it. */
export class AdminExposureError extends Error {
  override name = 'AdminExposureError';
}

/** The cookie a browser gets after opening the queue UI with `?token=`. */
export const UI_COOKIE = 'afilnet_sync_admin';

/** Where the cookie is sent and accepted: the queue UI and its own API and assets only. */
export const UI_COOKIE_PATH = '/queues';

/** True for addresses only this machine can reach: 127.0.0.0/8, ::1, localhost. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '');
  if (bare === 'localhost') return true;
  if (isIP(bare) === 4) return bare.startsWith('127.');
  if (isIP(bare) === 6) return bare === '::1' || /^::ffff:127\./i.test(bare);
  return false;
}

/**
 * Refuses a configuration that would serve /status, /retry and the queue UI to a network with no
 * token. Called before anything connects, so a bad deploy fails at once with the fix in the text.
 */
export function assertAdminExposureAllowed(host: string, token: string | undefined): void {
  if (token !== undefined || isLoopbackHost(host)) return;
  throw new AdminExposureError(
    `ADMIN_HOST=${host} is not a loopback address and ADMIN_TOKEN is not set: the admin server ` +
      'would expose retry, approve-deletes and the queue UI to the network without ' +
      'authentication. Set ADMIN_TOKEN (at least 16 characters) or bind ADMIN_HOST=127.0.0.1.',
  );
}

const sha256 = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

/** Equal-length digests compared in constant time: the time taken says nothing about the token. */
const sameDigest = (a: Buffer, b: Buffer): boolean => timingSafeEqual(a, b);

/**
 * Decides who may use the protected routes. The token is kept only as its SHA-256 (compared with
 * timingSafeEqual, so neither length nor prefix leaks through timing). The UI cookie holds an HMAC
 * of the token under a key made at start: it never carries the token itself, and a restart (or a
 * new token) invalidates every cookie issued before.
 */
export class AdminAccess {
  private readonly tokenDigest: Buffer | null;
  private readonly cookieValue: string | null;

  constructor(token: string | undefined) {
    this.tokenDigest = token === undefined ? null : sha256(token);
    this.cookieValue =
      token === undefined
        ? null
        : createHmac('sha256', randomBytes(32)).update(token, 'utf8').digest('base64url');
  }

  /** Whether a token is configured at all; without one every protected route answers 401. */
  get enabled(): boolean {
    return this.tokenDigest !== null;
  }

  /** True when `candidate` is the configured token. */
  matchesToken(candidate: string | undefined): boolean {
    if (this.tokenDigest === null || candidate === undefined) return false;
    return sameDigest(sha256(candidate), this.tokenDigest);
  }

  /** True for an `Authorization: Bearer <token>` header carrying the configured token. */
  matchesBearer(header: string | undefined): boolean {
    const match = /^Bearer\s+(.+)$/i.exec(header?.trim() ?? '');
    return this.matchesToken(match?.[1]);
  }

  /** True when the request's Cookie header carries the session cookie issued by `issueCookie`. */
  matchesCookie(cookieHeader: string | undefined): boolean {
    if (this.cookieValue === null || !cookieHeader) return false;
    const value = readCookie(cookieHeader, UI_COOKIE);
    if (value === undefined) return false;
    return sameDigest(sha256(value), sha256(this.cookieValue));
  }

  /** A Set-Cookie header value for the queue UI; null when no token is configured. */
  issueCookie(): string | null {
    if (this.cookieValue === null) return null;
    // Not `Secure`: the admin port usually speaks plain HTTP; put TLS in front when it leaves
    // the host, as docs/admin.md says. SameSite=Strict keeps other sites from riding on it.
    return `${UI_COOKIE}=${this.cookieValue}; Path=${UI_COOKIE_PATH}; HttpOnly; SameSite=Strict`;
  }
}

/** One cookie's value from a Cookie header, or undefined. */
function readCookie(header: string, name: string): string | undefined {
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
