import { execFileSync } from 'node:child_process';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, waitFor, type Harness } from './support/harness.ts';

const TOKEN = 'admin-readiness-test-token-0123456789';

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

  it('answers 503 naming redis, and 200 again once Redis is back', async () => {
    const first = await fetch(`${base}/readyz`);
    expect(first.status).toBe(200);
    stopRedis(port);
    let body: { failing?: string[]; checks?: { redis: { error?: string } } } = {};
    await waitFor(
      async () => {
        const res = await fetch(`${base}/readyz`);
        body = (await res.json()) as typeof body;
        return res.status === 503;
      },
      10_000,
      '/readyz to fail',
    );
    expect(body.failing).toEqual(['redis']);
    expect(body.checks?.redis.error).toMatch(/Redis/);
    startRedis(port);
    await waitFor(
      async () => (await fetch(`${base}/readyz`)).status === 200,
      15_000,
      '/readyz to recover',
    );
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
