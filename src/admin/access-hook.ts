import type { FastifyReply, FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import { UI_COOKIE_PATH, type AdminAccess } from './admin-access.ts';

/** Routes anyone may call: a prober has no token. */
export const PUBLIC_PATHS = new Set(['/healthz', '/readyz']);

/** The request's path without query string or trailing slash. */
export function pathOf(url: string): string {
  const path = url.split('?')[0] ?? '/';
  return path.length > 1 ? path.replace(/\/+$/, '') : path;
}

const inUi = (path: string): boolean =>
  path === UI_COOKIE_PATH || path.startsWith(`${UI_COOKIE_PATH}/`);

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

/** The URL without its `token` parameter, so the token does not stay in the address bar. */
function withoutToken(url: string): string {
  const parsed = new URL(url, 'http://admin');
  parsed.searchParams.delete('token');
  return `${parsed.pathname}${parsed.search}`;
}

/**
 * Guards every route but /healthz and /readyz (unknown paths too, so a 404 reveals nothing).
 * Accepted: `Authorization: Bearer <token>` anywhere; under /queues also the UI cookie, and a
 * `?token=` on a GET, which is answered with the cookie and a redirect to the same URL without it
 * (a browser cannot add a header to the UI's own asset and API requests).
 */
export function createAccessHook(access: AdminAccess): onRequestAsyncHookHandler {
  return async function checkAccess(request: FastifyRequest, reply: FastifyReply) {
    const path = pathOf(request.url);
    if (PUBLIC_PATHS.has(path)) return;
    if (access.matchesBearer(request.headers.authorization)) return;
    if (inUi(path)) {
      if (access.matchesCookie(request.headers.cookie)) return;
      const query = request.query as Record<string, unknown> | undefined;
      const token = typeof query?.token === 'string' ? query.token : undefined;
      if (request.method === 'GET' && access.matchesToken(token)) {
        const cookie = access.issueCookie();
        if (cookie !== null) {
          return reply
            .header('set-cookie', cookie)
            .header('cache-control', 'no-store')
            .redirect(withoutToken(request.url), 303);
        }
      }
    }
    return refuse(reply, access);
  };
}
