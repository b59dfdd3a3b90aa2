import { existsSync } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from './support/harness.ts';

const CHROMIUM = '/usr/bin/chromium';
const TOKEN = 'admin-ui-test-token-0123456789';
const SCREENSHOT = 'test-artifacts/queues.png';
const hasChromium = existsSync(CHROMIUM);

if (!hasChromium) {
  console.warn(`admin UI test skipped: ${CHROMIUM} is missing (apt-get install -y chromium)`);
}

describe.skipIf(!hasChromium)('queue UI in a browser', () => {
  let h: Harness;
  let base: string;
  let browser: Browser;
  beforeAll(async () => {
    h = await createHarness({ env: { ADMIN_TOKEN: TOKEN } });
    base = (await h.startDaemon()).adminUrl;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await h?.close();
  });

  it('logs in through the form and shows the daemon’s group-sync queue', async () => {
    const page = await browser.newPage();
    const first = await page.goto(`${base}/queues`);
    expect(first?.status()).toBe(401);
    await page.fill('input[name="token"]', TOKEN);
    const [response] = await Promise.all([page.waitForNavigation(), page.click('button')]);
    expect(response?.status()).toBe(200);
    // The token travelled in the POST body: never in the address bar.
    expect(page.url()).toBe(`${base}/queues`);
    // The overview card appears once the UI's own API call (cookie-authenticated) has answered.
    await page
      .getByText(/^\d+ Jobs?$/)
      .first()
      .waitFor({ timeout: 15_000 });
    expect(await page.getByText('group-sync', { exact: true }).count()).toBeGreaterThanOrEqual(2);
    await mkdir('test-artifacts', { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect((await stat(SCREENSHOT)).size).toBeGreaterThan(1_000);
  });

  it('shows nothing of the board to a browser without the token', async () => {
    const page = await browser.newPage();
    const response = await page.goto(`${base}/queues`);
    expect(response?.status()).toBe(401);
    expect(await page.content()).not.toContain('group-sync');
  });
});
