import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../src/emulator/index.ts';
import { DaemonProcess } from './support/daemon-process.ts';
import { waitFor } from './support/harness.ts';
import { parseJson, runCli } from './support/run-cli.ts';
import { createTestDatabase, testRedis } from './support/stores.ts';

interface Check {
  name: string;
  ok: boolean;
  detail: string;
  fix: string | null;
}
interface Checks {
  ok: boolean;
  checks: Check[];
}

const PASSWORD = 'check-secret-pw-4711';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

/** A Redis of this file's own that may evict keys and keeps an append-only file. */
async function evictingRedis(): Promise<{ url: string; stop: () => Promise<void> }> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'check-redis-'));
  const child: ChildProcess = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes'],
    { cwd: dir, stdio: 'ignore' },
  );
  const url = `redis://127.0.0.1:${port}`;
  await waitFor(() => ping(port), 10_000, 'the test Redis');
  const { Redis } = await import('ioredis');
  const r = new Redis(url);
  await r.config('SET', 'maxmemory-policy', 'allkeys-lru');
  r.disconnect();
  return {
    url,
    stop: async () => {
      const exited = new Promise((res) => child.once('exit', res));
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function ping(port: number): Promise<boolean> {
  const { Redis } = await import('ioredis');
  const r = new Redis({ port, lazyConnect: true, retryStrategy: () => null });
  r.on('error', () => undefined);
  try {
    await r.connect();
    return (await r.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    r.disconnect();
  }
}

const byName = (out: Checks, name: string): Check => {
  const found = out.checks.find((c) => c.name === name);
  if (!found) throw new Error(`no ${name} check in ${JSON.stringify(out)}`);
  return found;
};

describe('afilnet-sync check', () => {
  let emulator: RunningEmulator;
  let migrated: Awaited<ReturnType<typeof createTestDatabase>>;
  let bare: Awaited<ReturnType<typeof createTestDatabase>>;
  let evicting: Awaited<ReturnType<typeof evictingRedis>>;
  let env: Record<string, string>;
  beforeAll(async () => {
    emulator = await startEmulator({ accounts: [{ user: 'crm', password: PASSWORD }] });
    migrated = await createTestDatabase();
    bare = await createTestDatabase({ migrate: false });
    evicting = await evictingRedis();
    env = {
      DATABASE_URL: migrated.url,
      REDIS_URL: testRedis().url,
      AFILNET_BASE_URL: emulator.url,
      AFILNET_USER: 'crm',
      AFILNET_PASSWORD: PASSWORD,
    };
  }, 60_000);
  afterAll(async () => {
    await evicting?.stop();
    await emulator?.close();
    await migrated?.drop();
    await bare?.drop();
  });

  it('says ok for each check and exits 0 when the host is ready', async () => {
    const result = await runCli(['check'], env);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^ok +database +reachable, every migration applied$/m);
    expect(result.stdout).toMatch(/^ok +redis +reachable, maxmemory-policy noeviction, AOF off$/m);
    expect(result.stdout).toMatch(/^ok +afilnet +credentials accepted by 127\.0\.0\.1:\d+$/m);
    expect(result.stdout).toContain('All checks passed.');
  });

  it('names a refused password with its fix, exits 1, and never prints the password', async () => {
    const result = await runCli(['check', '--json'], { ...env, AFILNET_PASSWORD: 'wrong-pw' });
    expect(result.code).toBe(1);
    const out = parseJson<Checks>(result);
    expect(out.ok).toBe(false);
    const afilnet = byName(out, 'afilnet');
    expect(afilnet.ok).toBe(false);
    expect(afilnet.detail).toMatch(/refuses the account: INCORRECT_USER_PASSWORD/);
    expect(afilnet.fix).toMatch(/AFILNET_PASSWORD/);
    expect(byName(out, 'database').ok).toBe(true);
    expect(result.stdout + result.stderr).not.toContain('wrong-pw');
  });

  it('finds an unmigrated database and says to run migrate', async () => {
    const result = await runCli(['check', '--json'], { ...env, DATABASE_URL: bare.url });
    expect(result.code).toBe(1);
    const db = byName(parseJson<Checks>(result), 'database');
    expect(db.ok).toBe(false);
    expect(db.detail).toMatch(/^not migrated: \d+ pending \(20261128170000_init, /);
    expect(db.fix).toBe('Run `npx afilnet-sync migrate`.');
  });

  it('refuses a Redis that may evict keys, and says that its AOF is on', async () => {
    const result = await runCli(['check'], { ...env, REDIS_URL: evicting.url });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(
      /^PROBLEM +redis +maxmemory-policy is allkeys-lru \(AOF on\): Redis may evict queued jobs$/m,
    );
    expect(result.stdout).toMatch(/fix: Set maxmemory-policy noeviction/);
    expect(result.stdout).toContain('1 of 3 checks failed.');
  });

  it('reports unreachable stores and missing settings as problems, each with its fix', async () => {
    const port = await freePort();
    const result = await runCli(['check', '--json'], {
      REDIS_URL: `redis://127.0.0.1:${port}`,
      AFILNET_USER: 'crm',
      AFILNET_PASSWORD: PASSWORD,
      AFILNET_BASE_URL: `http://127.0.0.1:${port}`,
    });
    expect(result.code).toBe(1);
    const out = parseJson<Checks>(result);
    expect(out.checks.map((c) => [c.name, c.ok])).toEqual([
      ['database', false],
      ['redis', false],
      ['afilnet', false],
    ]);
    expect(byName(out, 'database').detail).toMatch(/not configured: DATABASE_URL: missing/);
    expect(byName(out, 'redis').detail).toMatch(/cannot reach Redis: .*ECONNREFUSED/);
    expect(byName(out, 'afilnet').fix).toMatch(/AFILNET_BASE_URL/);
  });

  it('is run by the daemon at start, which logs what fails and starts anyway', async () => {
    const daemon = new DaemonProcess({
      ...env,
      REDIS_URL: evicting.url,
      QUEUE_PREFIX: testRedis().prefix,
      ADMIN_PORT: '0',
      LOG_LEVEL: 'info',
    });
    daemon.start();
    try {
      await waitFor(
        () => Promise.resolve(daemon.output.includes('afilnet-sync started')),
        30_000,
        'start',
      );
      const line = daemon.output.split('\n').find((l) => l.includes('start check failed'));
      expect(line).toBeDefined();
      expect(JSON.parse(line ?? '{}')).toMatchObject({
        check: 'redis',
        problem: expect.stringMatching(/maxmemory-policy is allkeys-lru/) as unknown,
        fix: expect.stringMatching(/noeviction/) as unknown,
      });
      expect(daemon.running).toBe(true);
    } finally {
      await daemon.kill('SIGTERM');
    }
  });

  it('checks the credentials at start too, and says a wrong password is the problem', async () => {
    const daemon = new DaemonProcess({
      ...env,
      AFILNET_PASSWORD: 'wrong-pw',
      QUEUE_PREFIX: testRedis().prefix,
      ADMIN_PORT: '0',
      LOG_LEVEL: 'info',
    });
    daemon.start();
    try {
      await waitFor(
        () => Promise.resolve(daemon.output.includes('afilnet-sync started')),
        30_000,
        'start',
      );
      const lines = daemon.output.split('\n').filter((l) => l.includes('start check'));
      const afilnet = lines.map(
        (l) => JSON.parse(l) as { check: string; msg: string; fix?: string },
      );
      expect(afilnet.find((l) => l.check === 'afilnet')).toMatchObject({
        msg: 'start check failed',
        fix: expect.stringMatching(/AFILNET_PASSWORD/) as unknown,
      });
      expect(daemon.output).not.toContain('wrong-pw');
    } finally {
      await daemon.kill('SIGTERM');
    }
  });
});
