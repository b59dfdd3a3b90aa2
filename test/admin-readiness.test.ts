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

describe('readiness when Redis goes away', () => {
  let h: Harness;
  let port: number;
  let base: string;
  beforeAll(async () => {
    port = await freePort();
    startRedis(port);
    const url = `redis://127.0.0.1:${port}`;
    await waitFor(async () => Promise.resolve(ping(port)), 5_000, 'the test Redis to start');
    h = await createHarness({ env: { REDIS_URL: url, ADMIN_TOKEN: TOKEN } });
    base = (await h.startDaemon()).adminUrl;
  });
  afterAll(async () => {
    if (!ping(port)) startRedis(port);
    await h?.close();
    execFileSync('redis-cli', ['-p', String(port), 'shutdown', 'nosave']);
  });

  it('answers 503 naming redis, and 200 again once Redis is back', async () => {
    const first = await fetch(`${base}/readyz`);
    expect(first.status).toBe(200);
    execFileSync('redis-cli', ['-p', String(port), 'shutdown', 'nosave']);
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
