import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';

/** The admin server was asked to listen beyond this machine with nothing to protect it. */
export class AdminExposureError extends Error {
  override name = 'AdminExposureError';
}

/** The cookie a browser gets after logging in to the queue UI (POST /queues/login). */
export const UI_COOKIE = 'afilnet_sync_admin';

/** Where the cookie is sent and accepted: the queue UI and its own API and assets only. */
export const UI_COOKIE_PATH = '/queues';

/** The operator page (GET /ui and its forms): the same login, a cookie of its own path. */
export const OPERATOR_UI_PATH = '/ui';

/** Every path a login cookie is issued for, and accepted under. */
export const SESSION_PATHS = [UI_COOKIE_PATH, OPERATOR_UI_PATH] as const;

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

/** How long a queue UI session lasts; after that the browser logs in again. */
export const UI_SESSION_MS = 12 * 3_600_000;

/**
 * Decides who may use the protected routes. The token is kept only as its SHA-256 (compared with
 * timingSafeEqual, so neither length nor prefix leaks through timing). The UI cookie holds an
 * expiry and an HMAC of it under a key made from the token and a random value made at start: it
 * never carries the token itself, it expires, and a restart (or a new token) invalidates every
 * cookie issued before.
 */
export class AdminAccess {
  private readonly tokenDigest: Buffer | null;
  private readonly cookieKey: Buffer | null;

  constructor(token: string | undefined) {
    this.tokenDigest = token === undefined ? null : sha256(token);
    this.cookieKey =
      token === undefined
        ? null
        : createHmac('sha256', randomBytes(32)).update(token, 'utf8').digest();
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

  /** True when the request's Cookie header carries an unexpired cookie issued by `issueCookie`. */
  matchesCookie(cookieHeader: string | undefined, now = Date.now()): boolean {
    if (this.cookieKey === null || !cookieHeader) return false;
    const value = readCookie(cookieHeader, UI_COOKIE);
    const [expires, mac] = value?.split('.') ?? [];
    if (expires === undefined || mac === undefined || !/^\d{1,15}$/.test(expires)) return false;
    if (Number(expires) <= now) return false;
    return sameDigest(sha256(mac), sha256(this.sign(expires)));
  }

  /**
   * A Set-Cookie header value for the queue UI; null when no token is configured. `secure` when
   * the browser reached us over TLS (directly or through a trusted proxy): the cookie is then
   * never sent over plain HTTP. SameSite=Strict keeps other sites from riding on it.
   */
  issueCookie(opts: { secure: boolean; path?: string }, now = Date.now()): string | null {
    if (this.cookieKey === null) return null;
    const expires = String(now + UI_SESSION_MS);
    const value = `${expires}.${this.sign(expires)}`;
    const maxAge = Math.floor(UI_SESSION_MS / 1000);
    return `${UI_COOKIE}=${value}; Path=${opts.path ?? UI_COOKIE_PATH}; Max-Age=${maxAge}; HttpOnly; SameSite=Strict${opts.secure ? '; Secure' : ''}`;
  }

  /** A Set-Cookie header value that removes the UI cookie (logout). */
  clearCookie(opts: { secure: boolean; path?: string }): string {
    return `${UI_COOKIE}=; Path=${opts.path ?? UI_COOKIE_PATH}; Max-Age=0; HttpOnly; SameSite=Strict${opts.secure ? '; Secure' : ''}`;
  }

  private sign(expires: string): string {
    return createHmac('sha256', this.cookieKey ?? Buffer.alloc(0))
      .update(expires)
      .digest('base64url');
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
