import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { UI_COOKIE_PATH, type AdminAccess } from './admin-access.ts';

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
export function loginPage(message: string | null): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>afilnet-sync queues: log in</title>
<body style="font-family: sans-serif; max-width: 28rem; margin: 4rem auto">
<h1>afilnet-sync queues</h1>
${message ? `<p role="alert">${escapeHtml(message)}</p>` : ''}
<form method="post" action="${LOGIN_PATH}">
<label>Admin token <input type="password" name="token" autocomplete="current-password" required autofocus></label>
<button type="submit">Log in</button>
</form></body></html>`;
}

/** Answers 401 with the login page (a browser opening /queues without a session lands here). */
export function sendLoginPage(reply: FastifyReply, message: string | null): FastifyReply {
  return reply
    .code(401)
    .header('www-authenticate', 'Bearer realm="afilnet-sync admin"')
    .header('content-type', 'text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .send(loginPage(message));
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
      const cookie = access.matchesToken(token)
        ? access.issueCookie({ secure: overTls(request) })
        : null;
      if (cookie === null) return sendLoginPage(reply, 'That is not the admin token.');
      return reply
        .header('set-cookie', cookie)
        .header('cache-control', 'no-store')
        .redirect(UI_COOKIE_PATH, 303);
    });
    scope.post(LOGOUT_PATH, (request, reply) =>
      reply
        .header('set-cookie', access.clearCookie({ secure: overTls(request) }))
        .redirect(LOGIN_PATH, 303),
    );
    done();
  });
}
