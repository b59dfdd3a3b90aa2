import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from './support/harness.ts';

const TOKEN = 'admin-ui-session-token-0123456789';

async function call(
  base: string,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string,
) {
  return fetch(`${base}${path}`, {
    method,
    redirect: 'manual',
    headers,
    ...(body === undefined ? {} : { body }),
  });
}

/** POSTs the login form as a browser on the admin page would (Origin = the server). */
async function logIn(base: string, token: string, headers: Record<string, string> = {}) {
  return call(
    base,
    'POST',
    '/queues/login',
    { 'content-type': 'application/x-www-form-urlencoded', origin: base, ...headers },
    new URLSearchParams({ token }).toString(),
  );
}

const cookieOf = (res: Response): string =>
  (res.headers.get('set-cookie') ?? '').split(';')[0] ?? '';

describe('queue UI sessions over plain HTTP', () => {
  let h: Harness;
  let base: string;
  beforeAll(async () => {
    h = await createHarness({ env: { ADMIN_TOKEN: TOKEN } });
    base = (await h.startDaemon()).adminUrl;
  });
  afterAll(async () => h?.close());

  it('never logs in with a token in the URL', async () => {
    const res = await call(base, 'GET', `/queues?token=${encodeURIComponent(TOKEN)}`);
    expect(res.status).toBe(401);
    expect(res.headers.get('set-cookie')).toBeNull();
    const page = await res.text();
    expect(page).toContain('<form method="post" action="/queues/login">');
    expect(page).not.toContain('group-sync');
    const api = await call(base, 'GET', `/queues/api/queues?token=${encodeURIComponent(TOKEN)}`);
    expect(api.status).toBe(401);
  });

  it('serves a login form that posts the token rather than putting it in a URL', async () => {
    const res = await call(base, 'GET', '/queues/login');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const page = await res.text();
    expect(page).toMatch(/<form method="post" action="\/queues\/login">/);
    expect(page).toMatch(/type="password" name="token"/);
  });

  it('answers a right token with an HttpOnly SameSite=Strict cookie, not Secure over plain HTTP', async () => {
    const res = await logIn(base, TOKEN);
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/queues');
    const setCookie = res.headers.get('set-cookie') ?? '';
    expect(setCookie).toMatch(/; HttpOnly/);
    expect(setCookie).toMatch(/; SameSite=Strict/);
    expect(setCookie).toMatch(/; Path=\/queues/);
    expect(setCookie).not.toMatch(/Secure/);
    expect(setCookie).not.toContain(TOKEN);
    const cookie = cookieOf(res);
    const api = await call(base, 'GET', '/queues/api/queues', { cookie });
    expect(api.status).toBe(200);
    expect(JSON.stringify(await api.json())).toContain('group-sync');
    expect((await call(base, 'GET', '/status', { cookie })).status).toBe(401);
  });

  it('refuses a wrong token with the form again and no cookie', async () => {
    const res = await logIn(base, `${TOKEN}x`);
    expect(res.status).toBe(401);
    expect(res.headers.get('set-cookie')).toBeNull();
    expect(await res.text()).toContain('That is not the admin token.');
  });

  it('lets a cookie-authenticated change through only with an Origin or Referer of this host', async () => {
    const cookie = cookieOf(await logIn(base, TOKEN));
    const pause = (headers: Record<string, string>) =>
      call(base, 'PUT', '/queues/api/queues/group-sync/pause', { cookie, ...headers });
    const queue = h.daemon?.queue.queue;
    expect((await pause({ origin: 'http://evil.example' })).status).toBe(403);
    expect((await pause({ referer: 'http://evil.example/page' })).status).toBe(403);
    expect((await pause({ origin: 'null' })).status).toBe(403);
    // A browser always says where a PUT comes from: a request that does not is not the UI's.
    expect((await pause({})).status).toBe(401);
    expect(await queue?.isPaused()).toBe(false);
    expect((await pause({ origin: base })).status).toBe(200);
    expect(await queue?.isPaused()).toBe(true);
    const resume = await call(base, 'PUT', '/queues/api/queues/group-sync/resume', {
      cookie,
      referer: `${base}/queues/queue/group-sync`,
    });
    expect(resume.status).toBe(200);
    expect(await queue?.isPaused()).toBe(false);
  });

  it('refuses a cross-origin login and a cross-origin POST even with the bearer token', async () => {
    const login = await logIn(base, TOKEN, { origin: 'http://evil.example' });
    expect(login.status).toBe(403);
    expect(login.headers.get('set-cookie')).toBeNull();
    const retry = await call(
      base,
      'POST',
      '/retry',
      {
        authorization: `Bearer ${TOKEN}`,
        'content-type': 'application/json',
        origin: 'http://evil.example',
      },
      JSON.stringify({ all: true }),
    );
    expect(retry.status).toBe(403);
  });

  it('ignores X-Forwarded-Proto unless ADMIN_TRUST_PROXY is set', async () => {
    const res = await logIn(base, TOKEN, { 'x-forwarded-proto': 'https' });
    expect(res.status).toBe(303);
    expect(res.headers.get('set-cookie')).not.toMatch(/Secure/);
  });

  describe('behind a TLS proxy trusted with ADMIN_TRUST_PROXY', () => {
    beforeAll(async () => {
      await h.stopDaemon();
      base = (await h.startDaemon({ ADMIN_TRUST_PROXY: 'true' })).adminUrl;
    });

    it('marks the cookie Secure when the proxy says the browser came over HTTPS', async () => {
      const tls = await logIn(base, TOKEN, { 'x-forwarded-proto': 'https' });
      expect(tls.status).toBe(303);
      expect(tls.headers.get('set-cookie')).toMatch(/; Secure/);
      const plain = await logIn(base, TOKEN, { 'x-forwarded-proto': 'http' });
      expect(plain.headers.get('set-cookie')).not.toMatch(/Secure/);
    });
  });
});
