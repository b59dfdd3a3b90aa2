import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, waitFor, type Harness } from './support/harness.ts';

const TOKEN = 'operator-page-token-0123456789';
const ARTIFACTS = join(import.meta.dirname, '..', 'test-artifacts');

/** Opens a hold on group `g` as the delete guard would have recorded it. */
async function holdDeletes(h: Harness, groupId: string): Promise<void> {
  await h.db.query(
    `INSERT INTO sync_holds (group_id, kind, count, reason) VALUES ($1, 'deletes', 40, 'ui test: 40 of 50 members removed')`,
    [groupId],
  );
}

describe('the operator page at /ui in a browser', () => {
  let h: Harness;
  let base: string;
  let browser: Browser;
  beforeAll(async () => {
    h = await createHarness({ env: { ADMIN_TOKEN: TOKEN } });
    base = (await h.startDaemon()).adminUrl;
    await h.db.query(
      `INSERT INTO groups (id, name, type, fields) VALUES ('newsletter', 'Newsletter', 'mobile', '{mobile}');
       INSERT INTO contacts (id, mobile) VALUES ('c1', '34600000001');
       INSERT INTO group_members VALUES ('newsletter', 'c1');`,
    );
    await waitFor(
      async () =>
        (
          await h.db.query(
            `SELECT 1 FROM sync_member_state WHERE group_id = 'newsletter' AND status = 'synced'`,
          )
        ).rowCount === 1,
      30_000,
      'the group to sync',
    );
    await holdDeletes(h, 'newsletter');
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
  }, 90_000);
  afterAll(async () => {
    await browser?.close();
    await h?.close();
  });

  it('asks for the token, then shows the groups, and approves a hold with its button', async () => {
    const page = await browser.newPage();
    const first = await page.goto(`${base}/ui`);
    expect(first?.status()).toBe(401);
    expect(await page.content()).not.toContain('newsletter');

    await page.fill('input[name="token"]', TOKEN);
    await page.click('button[type="submit"]');
    await page.waitForURL(`${base}/ui`);
    const row = page.locator('tr[data-group="newsletter"]');
    await expect.poll(() => row.count()).toBe(1);
    expect(await row.innerText()).toMatch(/Newsletter\s+ok\s+1\s+1\s+0\s+0\s+40/);
    expect(await page.locator('tr[data-hold]').count()).toBe(1);

    await page.click('button:has-text("Approve deletes of newsletter")');
    await page.waitForURL(/\/ui\?approved=newsletter$/);
    expect(await page.locator('[role="status"]').innerText()).toBe(
      'Approved the held deletes of newsletter.',
    );
    expect(await page.locator('tr[data-hold]').count()).toBe(0);
    const approved = await h.db.query<{ approved_by: string }>(
      `SELECT approved_by FROM sync_holds WHERE group_id = 'newsletter' AND approved_at IS NOT NULL`,
    );
    expect(approved.rows).toEqual([{ approved_by: 'admin-ui' }]);

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'ui-operator-page.png'), fullPage: true });
    await page.close();
  }, 60_000);

  it('refuses the approve POST from another origin, and without a session', async () => {
    const login = await fetch(`${base}/queues/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: base },
      body: new URLSearchParams({ token: TOKEN, next: '/ui' }).toString(),
    });
    expect(login.status).toBe(303);
    expect(login.headers.get('location')).toBe('/ui');
    const uiCookie = login.headers
      .getSetCookie()
      .find((c) => c.includes('Path=/ui'))
      ?.split(';')[0];
    expect(uiCookie).toBeDefined();
    await holdDeletes(h, 'newsletter');
    const post = (headers: Record<string, string>) =>
      fetch(`${base}/ui/groups/newsletter/approve-deletes`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
        body: '',
      });
    expect((await post({ cookie: uiCookie ?? '', origin: 'http://evil.example' })).status).toBe(
      403,
    );
    expect((await post({ origin: base })).status).toBe(401);
    expect((await post({ cookie: uiCookie ?? '' })).status).toBe(401);
    const open = await h.db.query(
      `SELECT 1 FROM sync_holds WHERE group_id = 'newsletter' AND approved_at IS NULL`,
    );
    expect(open.rowCount).toBe(1);
    expect((await post({ cookie: uiCookie ?? '', origin: base })).status).toBe(303);
  });
});
