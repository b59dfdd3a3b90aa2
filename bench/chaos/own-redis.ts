import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { freePort } from './free-port.ts';

export interface SoakRedis {
  url: string;
  aof: boolean;
  /** Keys in the database now (to show what a restart kept). */
  dbsize(): Promise<number>;
  /** Stops the server (SIGTERM: a clean shutdown that flushes the AOF), keeps it down, starts it. */
  restart(downMs: number): Promise<{ keysBefore: number; keysAfter: number; ms: number }>;
  destroy(): Promise<void>;
}

/**
 * A private redis-server on a free loopback port with its own data directory. With AOF on (as in
 * production) a restart keeps BullMQ's jobs; with it off the restart empties Redis, and only the
 * daemon's sweep of old dirty marks brings the work back.
 */
export async function startSoakRedis(opts: { aof: boolean }): Promise<SoakRedis> {
  const dir = await mkdtemp(join(tmpdir(), 'afilnet-chaos-redis-'));
  const port = await freePort();
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--appendonly',
    opts.aof ? 'yes' : 'no',
    '--appendfsync',
    'everysec',
    '--save',
    '',
    '--maxmemory-policy',
    'noeviction',
    '--logfile',
    join(dir, 'redis.log'),
  ];
  let child: ChildProcess | null = null;
  const start = async (): Promise<void> => {
    child = spawn('redis-server', args, { stdio: 'ignore' });
    await waitForPong(port, 30_000);
  };
  const stop = async (): Promise<void> => {
    const running = child;
    child = null;
    if (!running || running.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => running.once('exit', () => resolve()));
    running.kill('SIGTERM');
    // A clean shutdown writes the AOF out; if it hangs, the data directory is thrown away anyway.
    const timer = setTimeout(() => running.kill('SIGKILL'), 20_000);
    await exited;
    clearTimeout(timer);
  };
  const dbsize = async (): Promise<number> => {
    const client = new Redis({
      port,
      host: '127.0.0.1',
      lazyConnect: true,
      maxRetriesPerRequest: 1,
    });
    try {
      await client.connect();
      return await client.dbsize();
    } finally {
      client.disconnect();
    }
  };
  try {
    await start();
  } catch (err) {
    await stop();
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    aof: opts.aof,
    dbsize,
    async restart(downMs) {
      const started = Date.now();
      const keysBefore = await dbsize().catch(() => -1);
      await stop();
      await sleep(downMs);
      await start();
      const keysAfter = await dbsize().catch(() => -1);
      return { keysBefore, keysAfter, ms: Date.now() - started };
    },
    async destroy() {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Until PING answers PONG (not LOADING while the AOF is replayed), bounded by `timeoutMs`. */
async function waitForPong(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const client = new Redis({
      port,
      host: '127.0.0.1',
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    client.on('error', () => undefined);
    try {
      await client.connect();
      if ((await client.ping()) === 'PONG') return;
    } catch {
      // Not up yet, or still loading the AOF.
    } finally {
      client.disconnect();
    }
    await sleep(50);
  }
  throw new Error(`redis-server on port ${port} did not answer within ${timeoutMs} ms`);
}
