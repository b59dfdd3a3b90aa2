import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../src/emulator/index.ts';
import { compareWithEmulator, createHarness, waitFor, type Harness } from './support/harness.ts';
import { DaemonProcess } from './support/daemon-process.ts';
import { createTestDatabase, testRedis } from './support/stores.ts';
import { drained } from './support/sync-helpers.ts';

describe('the start command', () => {
  it('refuses an unmigrated database with a message that says to run migrate', async () => {
    const db = await createTestDatabase({ migrate: false });
    try {
      const daemon = new DaemonProcess({
        DATABASE_URL: db.url,
        REDIS_URL: testRedis().url,
        AFILNET_USER: 'demo',
        AFILNET_PASSWORD: 'demo',
      });
      daemon.start();
      await waitFor(() => Promise.resolve(!daemon.running), 20_000, 'the daemon to exit');
      expect(daemon.output).toMatch(/npx afilnet-sync migrate/);
    } finally {
      await db.drop();
    }
  });

  it('lists every missing variable at once', async () => {
    const daemon = new DaemonProcess({});
    daemon.start();
    await waitFor(() => Promise.resolve(!daemon.running), 20_000, 'the daemon to exit');
    for (const name of ['DATABASE_URL', 'REDIS_URL', 'AFILNET_USER', 'AFILNET_PASSWORD']) {
      expect(daemon.output).toContain(name);
    }
  });
});

describe('a running daemon', () => {
  const secret = 'Sup3r-Secret:pass,word';
  let h: Harness;
  let emulator: RunningEmulator;
  let daemon: DaemonProcess;
  beforeAll(async () => {
    h = await createHarness();
    emulator = await startEmulator({ accounts: [{ user: 'acme', password: secret }] });
    h.env.AFILNET_BASE_URL = emulator.url;
    h.env.AFILNET_USER = 'acme';
    h.env.AFILNET_PASSWORD = secret;
    h.env.LOG_LEVEL = 'trace';
    h.env.AFILNET_RATE_LIMIT = '50';
    await h.db.query(
      `INSERT INTO groups (id, name, type, fields) VALUES ('g', 'G', 'mobile', '{mobile,name}')`,
    );
    daemon = new DaemonProcess(h.env);
    daemon.start();
  });
  afterAll(async () => {
    await daemon?.kill();
    await emulator?.close();
    await h?.close();
  });

  it('drains on SIGTERM, leaving no call half-recorded, and finishes after a restart', async () => {
    await h.db.query(`BEGIN;
      INSERT INTO contacts (id, mobile, attributes) SELECT 'c' || i, '3468' || lpad(i::text, 7, '0'), '{"name":"a"}' FROM generate_series(1, 400) i;
      INSERT INTO group_members SELECT 'g', 'c' || i FROM generate_series(1, 400) i;
      COMMIT;`);
    await waitFor(
      async () =>
        (await h.db.query(`SELECT 1 FROM sync_member_state WHERE status = 'synced' LIMIT 1`))
          .rowCount === 1,
      30_000,
      'adds',
    );
    await h.db.query(`UPDATE contacts SET attributes = '{"name":"b"}'`);
    await new Promise((r) => setTimeout(r, 1_500));
    const code = await daemon.kill('SIGTERM');
    expect(code).toBe(0);
    expect(daemon.output).toMatch(/afilnet-sync stopped/);
    // Nothing is left between "sent" and "recorded": no write-ahead mark of an add remains.
    const uncertain = await h.db.query(`SELECT 1 FROM sync_member_state WHERE uncertain`);
    expect(uncertain.rowCount).toBe(0);
    daemon.start();
    await waitFor(() => drained(h), 60_000, 'the rest after a restart');
    expect(await compareWithEmulator({ ...h, emulator })).toEqual([]);
  }, 120_000);

  it('exits at once on a second SIGTERM while the first one waits for a slow call', async () => {
    const modifiesBefore =
      (
        (await (await fetch(`${emulator.url}/__emulator/calls`)).json()) as {
          byMethod: Record<string, number>;
        }
      ).byMethod.modifycontact ?? 0;
    await fetch(`${emulator.url}/__emulator/faults`, {
      method: 'POST',
      body: JSON.stringify({ latencyMs: 8_000 }),
    });
    await h.db.query(`UPDATE contacts SET attributes = '{"name":"c"}' WHERE id = 'c1'`);
    // The daemon (just restarted by the test before, possibly still starting) has sent the slow
    // call: a signal before its handlers exist would only show the default action.
    await waitFor(
      async () => {
        const calls = (await (await fetch(`${emulator.url}/__emulator/calls`)).json()) as {
          byMethod: Record<string, number>;
        };
        return (calls.byMethod.modifycontact ?? 0) > modifiesBefore;
      },
      30_000,
      'the slow modifycontact to be sent',
    );
    const pid = daemon.pid;
    // Never process.kill(0, …): that signals this whole process group (the test runner too).
    expect(pid).toBeGreaterThan(0);
    expect(daemon.running).toBe(true);
    const started = Date.now();
    const exit = daemon.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    if (daemon.running) process.kill(pid as number, 'SIGTERM');
    expect(await exit).toBe(1);
    expect(Date.now() - started).toBeLessThan(4_000);
    expect(daemon.output).toMatch(/second signal: exiting now/);
    await fetch(`${emulator.url}/__emulator/faults`, {
      method: 'POST',
      body: JSON.stringify({ latencyMs: 0 }),
    });
  }, 30_000);

  it('never writes the password to its logs, even at trace level', () => {
    expect(daemon.output.length).toBeGreaterThan(100);
    expect(daemon.output).not.toContain(secret);
    expect(daemon.output).not.toContain('Sup3r-Secret');
  });
});
