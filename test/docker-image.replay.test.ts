import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { replayDockerfile, sizeOf, type ReplayResult } from './support/dockerfile-replay.ts';
import { createTestDatabase, testRedis } from './support/stores.ts';

/**
 * The image, built and run without Docker: test/support/dockerfile-replay.ts replays the
 * Dockerfile's stages, then the services of docker-compose.yml that run the image (migrate,
 * emulator, daemon) are started from what the replay produced, as an unprivileged user, against
 * this run's Postgres and Redis. `DOCKER_REPLAY_CONTEXT` replays another build context (e.g. a
 * `git archive` of a commit) instead of the working tree. Run by `npm run test:image` (CI does).
 */

// `nobody`: owns nothing in the replayed image, as `node` owns nothing in the real one. A runner
// that is not root is unprivileged already, and owns what it replayed.
const ROOT = process.getuid?.() === 0;
const UNPRIVILEGED = ROOT
  ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups']
  : ['env'];
const CONTEXT = process.env.DOCKER_REPLAY_CONTEXT ?? process.cwd();

interface Service {
  command?: string[];
  environment?: Record<string, string>;
  healthcheck?: { test?: string[]; disable?: boolean };
}
const compose = parse(readFileSync(join(CONTEXT, 'docker-compose.yml'), 'utf8'), {
  merge: true,
}) as { services: Record<string, Service> };
const service = (name: string): Service => {
  const s = compose.services[name];
  if (!s) throw new Error(`no service ${name} in docker-compose.yml`);
  return s;
};
/** Compose's `${NAME:-default}` with NAME unset. */
const withDefaults = (env: Record<string, string> = {}) =>
  Object.fromEntries(
    Object.entries(env).map(([k, v]) => [k, String(v).replace(/\$\{\w+:-([^}]*)\}/g, '$1')]),
  );

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

let image: ReplayResult;
let out: string;
let db: { url: string; drop: () => Promise<void> };
let redis: { url: string; prefix: string };
const children: ChildProcess[] = [];

/** Env of a container of `image` running compose's `name` service, pointed at this run's stores. */
function containerEnv(name: string, overrides: Record<string, string>): Record<string, string> {
  return {
    ...image.env,
    ...withDefaults(service(name).environment),
    PATH: `${image.nodeBin}:/usr/bin:/bin`,
    HOME: '/tmp',
    DATABASE_URL: db.url,
    REDIS_URL: redis.url,
    QUEUE_PREFIX: redis.prefix,
    ...overrides,
  };
}

/** Runs `command` in the image's WORKDIR as the unprivileged user. */
function inImage(command: string[], env: Record<string, string>): ChildProcess {
  const [cmd = '', ...args] = [...UNPRIVILEGED, ...command];
  const child = spawn(cmd, args, {
    cwd: join(image.root, image.workdir),
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  return child;
}

function finished(child: ChildProcess): Promise<{ code: number | null; output: string }> {
  let output = '';
  child.stdout?.on('data', (b: Buffer) => (output += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (output += b.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, output })));
}

/** Runs `check` (a health check command) every 500 ms until it exits 0, or fails after `ms`. */
async function untilHealthy(
  check: string[],
  env: Record<string, string>,
  ms: number,
): Promise<number> {
  const started = Date.now();
  for (;;) {
    const r = spawnSync(UNPRIVILEGED[0] ?? '', [...UNPRIVILEGED.slice(1), ...check], {
      cwd: join(image.root, image.workdir),
      env,
      timeout: 5_000,
    });
    if (r.status === 0) return Date.now() - started;
    if (Date.now() - started > ms)
      throw new Error(`not healthy after ${ms} ms: ${check.join(' ')}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

beforeAll(async () => {
  out = mkdtempSync(join(tmpdir(), 'afilnet-image-'));
  image = replayDockerfile({ dockerfile: join(CONTEXT, 'Dockerfile'), context: CONTEXT, out });
  db = await createTestDatabase({ migrate: false });
  redis = testRedis();
}, 900_000);

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  await db?.drop();
  if (out) rmSync(out, { recursive: true, force: true });
});

describe('the image (Dockerfile replayed without Docker)', () => {
  it('holds the compiled build and production dependencies only: no Prisma, no tsx', () => {
    const app = join(image.root, image.workdir);
    expect(existsSync(join(app, 'dist/cli/main.js'))).toBe(true);
    expect(existsSync(join(app, 'src'))).toBe(false);
    // (TypeScript itself stays: valibot, under bull-board, names it as an optional peer.)
    for (const dev of ['prisma', '@prisma', '.bin/prisma', 'tsx', 'esbuild', 'vitest']) {
      expect(existsSync(join(app, 'node_modules', dev)), dev).toBe(false);
    }
    // BullMQ's native MessagePack: its install script is allowed and ran.
    expect(existsSync(join(app, 'node_modules/@msgpackr-extract'))).toBe(true);
    const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;
    console.info(
      `replayed image: node_modules ${mb(sizeOf(join(app, 'node_modules')))}, dist ${mb(sizeOf(join(app, 'dist')))}; ` +
        image.timings
          .map((t) => `${t.stage} ${t.run.slice(0, 40)}: ${t.seconds.toFixed(0)} s`)
          .join('; '),
    );
  });

  it.runIf(ROOT)('runs as an unprivileged user that cannot write the app', () => {
    expect(image.user).not.toBe('root');
    const r = spawnSync(UNPRIVILEGED[0] ?? '', [...UNPRIVILEGED.slice(1), 'touch', 'dist/x'], {
      cwd: join(image.root, image.workdir),
    });
    expect(r.status).not.toBe(0);
  });

  it('answers --version from dist/ quickly', async () => {
    const started = Date.now();
    const r = await finished(
      inImage([...image.cmd.slice(0, 2), '--version'], containerEnv('migrate', {})),
    );
    expect(r.code).toBe(0);
    expect(r.output.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    console.info(`--version in the image: ${Date.now() - started} ms`);
  });

  it('migrates the database with compose’s migrate service', async () => {
    const r = await finished(
      inImage(service('migrate').command ?? [], containerEnv('migrate', {})),
    );
    expect(r.code, r.output).toBe(0);
    expect(r.output).toMatch(/Applied \d+ migration\(s\)/);
  });

  it('starts compose’s emulator and daemon until their health checks pass, and syncs', async () => {
    const emulatorPort = await freePort();
    const adminPort = await freePort();
    const emulatorCommand = (service('emulator').command ?? []).map((arg, i, all) =>
      all[i - 1] === '--port' ? String(emulatorPort) : arg,
    );
    const emulatorEnv = containerEnv('emulator', {});
    const emulator = inImage(emulatorCommand, emulatorEnv);
    const emulatorCheck = (service('emulator').healthcheck?.test ?? [])
      .slice(1)
      .map((a) => a.replace(':8787/', `:${emulatorPort}/`));
    await untilHealthy(emulatorCheck, emulatorEnv, 60_000);

    const daemonEnv = containerEnv('daemon', {
      AFILNET_BASE_URL: `http://127.0.0.1:${emulatorPort}`,
      ADMIN_PORT: String(adminPort),
      BATCH_WINDOW_MS: '50',
    });
    // The image's CMD is the daemon service's command.
    expect(service('daemon').command).toEqual(image.cmd);
    const daemon = inImage(image.cmd, daemonEnv);
    const daemonDone = finished(daemon);
    const tookMs = await untilHealthy(image.healthcheck ?? [], daemonEnv, 90_000);
    console.info(`daemon healthy after ${tookMs} ms`);

    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    await client.query(`INSERT INTO groups (id, name, type, fields) VALUES ('img', 'Image', 'mobile', '{mobile}');
      INSERT INTO contacts (id, mobile) VALUES ('img-1', '34611122233');
      INSERT INTO group_members VALUES ('img', 'img-1')`);
    await client.end();
    const deadline = Date.now() + 60_000;
    let state = '';
    while (!state.includes('34611122233') && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      state = await (await fetch(`http://127.0.0.1:${emulatorPort}/__emulator/state`)).text();
    }
    expect(state).toContain('34611122233');

    daemon.kill('SIGTERM');
    emulator.kill('SIGTERM');
    const [d, e] = await Promise.all([daemonDone, finished(emulator)]);
    expect(d.code, d.output.slice(-2000)).toBe(0);
    expect(e.code).toBe(0);
  });
});
