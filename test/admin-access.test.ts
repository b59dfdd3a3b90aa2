import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AdminAccess,
  AdminExposureError,
  assertAdminExposureAllowed,
  isLoopbackHost,
  UI_SESSION_MS,
} from '../src/admin/admin-access.ts';
import { loadDaemonConfig } from '../src/config/config.ts';
import { startDaemon } from '../src/daemon.ts';
import { createLogger } from '../src/observability/logger.ts';
import { createHarness, type Harness } from './support/harness.ts';

const TOKEN = 'admin-access-test-token-0123456789';

describe('who may reach the admin server', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.8.9.10', true],
    ['::1', true],
    ['[::1]', true],
    ['localhost', true],
    ['0.0.0.0', false],
    ['::', false],
    ['192.168.1.20', false],
    ['admin.example.com', false],
  ])('treats %s as loopback: %s', (host, loopback) => {
    expect(isLoopbackHost(host)).toBe(loopback);
  });

  it('allows any host with a token, and only loopback without one', () => {
    expect(() => assertAdminExposureAllowed('0.0.0.0', TOKEN)).not.toThrow();
    expect(() => assertAdminExposureAllowed('127.0.0.1', undefined)).not.toThrow();
    expect(() => assertAdminExposureAllowed('0.0.0.0', undefined)).toThrow(AdminExposureError);
  });

  it('accepts the exact bearer token only, and a cookie only from the instance that issued it', () => {
    const access = new AdminAccess(TOKEN);
    expect(access.matchesBearer(`Bearer ${TOKEN}`)).toBe(true);
    expect(access.matchesBearer(`bearer   ${TOKEN}`)).toBe(true);
    expect(access.matchesBearer(`Bearer ${TOKEN.slice(0, -1)}`)).toBe(false);
    expect(access.matchesBearer(TOKEN)).toBe(false);
    expect(access.matchesBearer(undefined)).toBe(false);
    const cookie = (access.issueCookie({ secure: false }) ?? '').split(';')[0] ?? '';
    expect(access.matchesCookie(`other=1; ${cookie}`)).toBe(true);
    expect(new AdminAccess(TOKEN).matchesCookie(cookie)).toBe(false);
    // The expiry is signed: a cookie past it, or with its expiry edited, is refused.
    expect(access.matchesCookie(cookie, Date.now() + UI_SESSION_MS + 1)).toBe(false);
    const [name, value] = cookie.split('=') as [string, string];
    const extended = `${name}=${Number(value.split('.')[0]) + 1}.${value.split('.')[1]}`;
    expect(access.matchesCookie(extended)).toBe(false);
    expect(new AdminAccess(undefined).matchesBearer(`Bearer ${TOKEN}`)).toBe(false);
  });
});

describe('a daemon started on loopback without ADMIN_TOKEN', () => {
  let h: Harness;
  let base: string;
  beforeAll(async () => {
    h = await createHarness();
    base = (await h.startDaemon()).adminUrl;
  });
  afterAll(async () => h?.close());

  it('answers /healthz but 401 on protected routes, saying the token is not set', async () => {
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const res = await fetch(`${base}/status`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { message: string }).message).toMatch(/ADMIN_TOKEN is not set/);
  });

  it('refuses to start on a non-loopback host without a token, naming the fix', async () => {
    const config = loadDaemonConfig({ ...h.env, ADMIN_HOST: '0.0.0.0' });
    const starting = startDaemon(config, createLogger({ level: 'silent' }));
    await expect(starting).rejects.toThrow(AdminExposureError);
    await expect(starting).rejects.toThrow(/Set ADMIN_TOKEN .* or bind ADMIN_HOST=127\.0\.0\.1/);
  });
});
