import { execFileSync } from 'node:child_process';
import { createServer } from 'node:net';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDaemon } from '../src/daemon.ts';
import { createLogger } from '../src/observability/logger.ts';
import { createHarness, waitFor, type Harness } from './support/harness.ts';

const TOKEN = 'admin-readiness-test-token-0123456789';
const auth = { authorization: `Bearer ${TOKEN}` };

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

const startRedis = (port: number) =>
  execFileSync('redis-server', [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    '--maxmemory-policy',
    'noeviction',
    '--daemonize',
    'yes',
  ]);

/** Starts a Redis of this test's own; another port if a parallel test took the free one first. */
async function startOwnRedis(): Promise<number> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    startRedis(port);
    try {
      await waitFor(async () => Promise.resolve(ping(port)), 2_000, 'the test Redis to start');
      return port;
    } catch {
      // The port was taken between freePort() and redis-server: try another.
    }
  }
  throw new Error('could not start a redis-server of our own');
}

/** Stops it; already stopped is fine. */
function stopRedis(port: number): void {
  try {
    execFileSync('redis-cli', ['-p', String(port), 'shutdown', 'nosave'], { stdio: 'ignore' });
  } catch {
    // Not running.
  }
}

describe('readiness when Redis goes away', () => {
  let h: Harness;
  let port: number;
  let base: string;
  beforeAll(async () => {
    port = await startOwnRedis();
    h = await createHarness({
      env: { REDIS_URL: `redis://127.0.0.1:${port}`, ADMIN_TOKEN: TOKEN },
    });
    base = (await h.startDaemon()).adminUrl;
  });
  afterAll(async () => {
    // The daemon drains through Redis: bring it back if the test left it down.
    if (!ping(port)) {
      startRedis(port);
      await waitFor(async () => Promise.resolve(ping(port)), 5_000, 'Redis to restart');
    }
    await h?.close();
    stopRedis(port);
  });

  it('answers 503 with only the verdict without a token, and names redis to the token holder', async () => {
    const first = await fetch(`${base}/readyz`);
    expect(first.status).toBe(200);
    expect(await first.json()).toEqual({ status: 'ready' });
    stopRedis(port);
    let body: { failing?: string[]; checks?: { redis: { error?: string } } } = {};
    await waitFor(
      async () => {
        const res = await fetch(`${base}/readyz`, { headers: auth });
        body = (await res.json()) as typeof body;
        return res.status === 503;
      },
      10_000,
      '/readyz to fail',
    );
    expect(body.failing).toEqual(['redis']);
    expect(body.checks?.redis.error).toMatch(/Redis/);
    // Anyone else learns the verdict and nothing of the internals (no check names, no errors).
    for (const headers of [{}, { authorization: `Bearer ${TOKEN}x` }]) {
      const res = await fetch(`${base}/readyz`, { headers });
      expect(res.status).toBe(503);
      expect(await res.text()).toBe(JSON.stringify({ status: 'not ready' }));
    }
    startRedis(port);
    await waitFor(
      async () => (await fetch(`${base}/readyz`)).status === 200,
      15_000,
      '/readyz to recover',
    );
  });
});

describe('readiness under a probe storm', () => {
  let h: Harness;
  let base: string;
  beforeAll(async () => {
    h = await createHarness({ env: { ADMIN_TOKEN: TOKEN } });
    base = (await h.startDaemon()).adminUrl;
  });
  afterAll(async () => h?.close());

  /** Sessions ever opened on the test database, and those open now (the stats are per database). */
  async function sessions(): Promise<{ opened: number; open: number }> {
    const name = new URL(h.databaseUrl).pathname.slice(1);
    const res = await h.db.query<{ opened: string; open: string }>(
      `SELECT (SELECT sessions FROM pg_stat_database WHERE datname = $1) AS opened,
              (SELECT count(*) FROM pg_stat_activity WHERE datname = $1) AS open`,
      [name],
    );
    await h.db.query('SELECT pg_stat_clear_snapshot()');
    return { opened: Number(res.rows[0]?.opened), open: Number(res.rows[0]?.open) };
  }

  it('opens no Postgres connection for 300 concurrent probes, and shares checks among them', async () => {
    expect((await fetch(`${base}/readyz`, { headers: auth })).status).toBe(200);
    // Let the first probe's session statistics reach pg_stat_database.
    await new Promise((r) => setTimeout(r, 1_500));
    const before = await sessions();
    let peak = before.open;
    const sampling = (async () => {
      for (let i = 0; i < 20; i++) {
        peak = Math.max(peak, (await sessions()).open);
        await new Promise((r) => setTimeout(r, 25));
      }
    })();
    const answers = await Promise.all(
      Array.from({ length: 300 }, () => fetch(`${base}/readyz`).then((r) => r.status)),
    );
    await sampling;
    expect(new Set(answers)).toEqual(new Set([200]));
    await new Promise((r) => setTimeout(r, 1_500));
    const after = await sessions();
    expect(after.opened - before.opened).toBe(0);
    expect(peak).toBe(before.open);
  });

  it('warns at start and, to the token holder, on /readyz when a capture trigger is disabled', async () => {
    await h.db.query('ALTER TABLE contacts DISABLE TRIGGER contacts_capture_update');
    try {
      await h.stopDaemon();
      const lines: string[] = [];
      const sink = new Writable({
        write(chunk: Buffer, _e, done) {
          lines.push(chunk.toString());
          done();
        },
      });
      h.daemon = await startDaemon(h.config, createLogger({ level: 'warn' }, sink));
      base = h.daemon.adminUrl;
      expect(lines.join('')).toMatch(
        /trigger contacts_capture_update on contacts is disabled.*change capture is incomplete/,
      );
      const res = await fetch(`${base}/readyz`, { headers: auth });
      // Still ready (the daemon syncs everything else), but says what it misses.
      expect(res.status).toBe(200);
      const body = (await res.json()) as { warnings: string[] };
      expect(body.warnings).toEqual([
        expect.stringMatching(/contacts_capture_update .* is disabled/),
      ]);
      expect(await (await fetch(`${base}/readyz`)).json()).toEqual({ status: 'ready' });
    } finally {
      await h.db.query('ALTER TABLE contacts ENABLE ALWAYS TRIGGER contacts_capture_update');
    }
  });
});

function ping(port: number): boolean {
  try {
    return (
      execFileSync('redis-cli', ['-p', String(port), 'ping'])
        .toString()
        .trim() === 'PONG'
    );
  } catch {
    return false;
  }
}
