import type { FastifyReply, FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import {
  OPERATOR_UI_PATH,
  SESSION_PATHS,
  UI_COOKIE_PATH,
  type AdminAccess,
} from './admin-access.ts';
import { LOGIN_PATH, LOGOUT_PATH, sendLoginPage } from './queue-login.ts';

/** Routes anyone may call: a prober has no token, a browser logging in has no session yet. */
export const PUBLIC_PATHS = new Set(['/healthz', '/readyz', LOGIN_PATH, LOGOUT_PATH]);

/** Methods that change state: a browser's cross-site request must not reach them. */
const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** The request's path without query string or trailing slash. */
export function pathOf(url: string): string {
  const path = url.split('?')[0] ?? '/';
  return path.length > 1 ? path.replace(/\/+$/, '') : path;
}

const inUi = (path: string): boolean =>
  SESSION_PATHS.some((p) => path === p || path.startsWith(`${p}/`));

function refuse(reply: FastifyReply, access: AdminAccess): FastifyReply {
  return reply
    .code(401)
    .header('www-authenticate', 'Bearer realm="afilnet-sync admin"')
    .send({
      error: 'unauthorized',
      message: access.enabled
        ? 'Send Authorization: Bearer <ADMIN_TOKEN>.'
        : 'ADMIN_TOKEN is not set: the protected admin routes are disabled.',
    });
}

const hostOf = (url: string): string | null => {
  try {
    return new URL(url).host;
  } catch {
    return null;
  }
};

/**
 * Where a browser says the request comes from: `same`, `other` (another site, or an opaque
 * "null" origin), or `unknown` when it sent neither Origin nor Referer (curl, scripts). Compared
 * by host and port with the Host the request was sent to (X-Forwarded-Host behind a trusted
 * proxy), not by scheme, so a TLS-terminating proxy does not need trust-proxy for this.
 */
function originOf(request: FastifyRequest): 'same' | 'other' | 'unknown' {
  const { origin, referer } = request.headers;
  const source = origin ?? referer;
  if (source === undefined) return 'unknown';
  return hostOf(source) === request.host ? 'same' : 'other';
}

/**
 * Guards every route but the public ones (unknown paths too, so a 404 reveals nothing).
 * Accepted: `Authorization: Bearer <token>` anywhere; under /queues and /ui also the session cookie
 * from the login form. A token in the URL is never accepted: it would stay in histories and
 * proxy logs. State-changing requests from another origin are refused whatever they carry, and
 * a cookie-authenticated one must show its origin (a browser always sends Origin on a POST),
 * since SameSite alone does not cover every browser or a same-site sibling host.
 */
export function createAccessHook(access: AdminAccess): onRequestAsyncHookHandler {
  return async function checkAccess(request: FastifyRequest, reply: FastifyReply) {
    const path = pathOf(request.url);
    const changing = STATE_CHANGING.has(request.method);
    const origin = changing ? originOf(request) : 'same';
    if (origin === 'other') {
      return reply.code(403).send({
        error: 'forbidden',
        message: 'cross-origin request refused: Origin/Referer does not match the host',
      });
    }
    if (PUBLIC_PATHS.has(path)) return;
    if (access.matchesBearer(request.headers.authorization)) return;
    if (inUi(path)) {
      if (access.matchesCookie(request.headers.cookie) && origin !== 'unknown') return;
      if (request.method === 'GET' && (path === UI_COOKIE_PATH || path === OPERATOR_UI_PATH)) {
        return sendLoginPage(reply, null, path);
      }
    }
    return refuse(reply, access);
  };
}
