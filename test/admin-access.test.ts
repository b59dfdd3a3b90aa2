import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminExposureError } from '../src/admin/admin-access.ts';
import { startAdminServer } from '../src/admin/admin-server.ts';
import { loadDaemonConfig } from '../src/config/config.ts';
import { startDaemon } from '../src/daemon.ts';
import { createLogger } from '../src/observability/logger.ts';
import { createHarness, type Harness } from './support/harness.ts';

const TOKEN = 'admin-access-test-token-0123456789';
const auth = { authorization: `Bearer ${TOKEN}` };

describe('admin server without a token', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness({ env: { ADMIN_TOKEN: TOKEN } });
    await h.startDaemon();
  });
  afterAll(async () => h?.close());

  it('answers 401 on protected routes when no token is configured, even on loopback', async () => {
    const d = h.daemon;
    if (!d) throw new Error('daemon not running');
    const admin = await startAdminServer(
      {
        ...d,
        databaseUrl: h.databaseUrl,
        prefix: h.config.QUEUE_PREFIX,
        rateCeiling: h.config.AFILNET_RATE_LIMIT,
        logger: createLogger({ level: 'silent' }),
      },
      { host: '127.0.0.1', port: 0, token: undefined },
    );
    try {
      const res = await fetch(`${admin.url}/status`, { headers: auth });
      expect(res.status).toBe(401);
      expect(((await res.json()) as { message: string }).message).toMatch(/ADMIN_TOKEN is not set/);
      expect((await fetch(`${admin.url}/healthz`)).status).toBe(200);
    } finally {
      await admin.close();
    }
  });

  it('refuses to start on a non-loopback host without a token, naming the fix', async () => {
    const config = loadDaemonConfig({ ...h.env, ADMIN_HOST: '0.0.0.0', ADMIN_TOKEN: '' });
    const starting = startDaemon(config, createLogger({ level: 'silent' }));
    await expect(starting).rejects.toThrow(AdminExposureError);
    await expect(starting).rejects.toThrow(/Set ADMIN_TOKEN .* or bind ADMIN_HOST=127\.0\.0\.1/);
  });
});
