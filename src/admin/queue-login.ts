import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { SESSION_PATHS, UI_COOKIE_PATH, type AdminAccess } from './admin-access.ts';

/** The queue UI's login form posts here; logout clears the cookie. Both are open to anyone. */
export const LOGIN_PATH = `${UI_COOKIE_PATH}/login`;
export const LOGOUT_PATH = `${UI_COOKIE_PATH}/logout`;

/** Whether the browser reached us over TLS: directly, or through a proxy trusted by ADMIN_TRUST_PROXY. */
export const overTls = (request: FastifyRequest): boolean => request.protocol === 'https';

const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * The login page: a form that POSTs the token, so it never appears in a URL (address bar,
 * history, proxy logs). Plain HTML with no script; the token field is a password field.
 */
export function loginPage(message: string | null, next: string = UI_COOKIE_PATH): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>afilnet-sync queues: log in</title>
<body style="font-family: sans-serif; max-width: 28rem; margin: 4rem auto">
<h1>afilnet-sync queues</h1>
${message ? `<p role="alert">${escapeHtml(message)}</p>` : ''}
<form method="post" action="${LOGIN_PATH}">
<input type="hidden" name="next" value="${escapeHtml(landing(next))}">
<label>Admin token <input type="password" name="token" autocomplete="current-password" required autofocus></label>
<button type="submit">Log in</button>
</form></body></html>`;
}

/** Where a login may send the browser: one of the session paths, else the queue board. */
const landing = (next: string | null | undefined): string =>
  SESSION_PATHS.find((p) => p === next) ?? UI_COOKIE_PATH;

/** Answers 401 with the login page (a browser opening /queues or /ui without a session lands here). */
export function sendLoginPage(
  reply: FastifyReply,
  message: string | null,
  next: string = UI_COOKIE_PATH,
): FastifyReply {
  return reply
    .code(401)
    .header('www-authenticate', 'Bearer realm="afilnet-sync admin"')
    .header('content-type', 'text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .send(loginPage(message, next));
}

/**
 * GET /queues/login shows the form; POST /queues/login (a form body `token=…`) answers with the
 * session cookie and a redirect to the board, or 401 and the form again; POST /queues/logout
 * clears the cookie. The form parser is registered in this plugin only, for these routes.
 */
export async function registerQueueLogin(app: FastifyInstance, access: AdminAccess): Promise<void> {
  await app.register((scope, _opts, done) => {
    scope.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string', bodyLimit: 4_096 },
      (_request, body, parsed) => parsed(null, new URLSearchParams(body as string)),
    );
    scope.get(LOGIN_PATH, (_request, reply) =>
      reply
        .code(access.enabled ? 200 : 401)
        .header('content-type', 'text/html; charset=utf-8')
        .header('cache-control', 'no-store')
        .send(
          loginPage(access.enabled ? null : 'ADMIN_TOKEN is not set: the queue UI is disabled.'),
        ),
    );
    scope.post(LOGIN_PATH, (request, reply) => {
      const form = request.body instanceof URLSearchParams ? request.body : null;
      const token = form?.get('token') ?? undefined;
      const next = landing(form?.get('next'));
      const secure = overTls(request);
      // One session for the queue board and the operator page: a cookie for each path.
      const cookies = access.matchesToken(token)
        ? SESSION_PATHS.map((path) => access.issueCookie({ secure, path }))
        : [];
      if (cookies.length === 0 || cookies.includes(null)) {
        return sendLoginPage(reply, 'That is not the admin token.', next);
      }
      return reply
        .header('set-cookie', cookies)
        .header('cache-control', 'no-store')
        .redirect(next, 303);
    });
    scope.post(LOGOUT_PATH, (request, reply) =>
      reply
        .header(
          'set-cookie',
          SESSION_PATHS.map((path) => access.clearCookie({ secure: overTls(request), path })),
        )
        .redirect(LOGIN_PATH, 303),
    );
    done();
  });
}
