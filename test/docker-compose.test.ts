import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
// `yaml` is already installed (through vite and testcontainers); no dependency was added for it.
import { parse } from 'yaml';
import { loadDaemonConfig } from '../src/config/config.ts';

interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  volumes?: string[];
  restart?: string;
}

// Docker is not running on the build machines, so `docker compose config` cannot check the file
// here; CI runs it where the tool works. This checks what the stack relies on.
const compose = parse(readFileSync('docker-compose.yml', 'utf8'), { merge: true }) as {
  services: Record<string, Service>;
};
const service = (name: string): Service => {
  const s = compose.services[name];
  if (!s) throw new Error(`no service ${name}`);
  return s;
};

/** Compose's `${NAME:-default}` with NAME unset. */
const withDefaults = (env: Record<string, string>) =>
  Object.fromEntries(
    Object.entries(env).map(([k, v]) => [k, String(v).replace(/\$\{\w+:-([^}]*)\}/g, '$1')]),
  );

describe('docker-compose.yml', () => {
  it('declares the stack: stores, emulator, one-shot migrate and demo-data, and the daemon', () => {
    expect(Object.keys(compose.services).sort()).toEqual(
      ['daemon', 'demo-data', 'emulator', 'migrate', 'postgres', 'redis'].sort(),
    );
    expect(service('postgres').image).toBe('postgres:16');
    expect(service('redis').image).toBe('redis:7');
    expect(service('redis').command?.join(' ')).toMatch(/--appendonly yes/);
    expect(service('redis').command?.join(' ')).toMatch(/--maxmemory-policy noeviction/);
    expect(service('emulator').command).toEqual([
      'node',
      'bin/afilnet-sync.mjs',
      'emulator',
      '--host',
      '0.0.0.0',
      '--port',
      '8787',
    ]);
    expect(service('migrate').command).toEqual(['node', 'bin/afilnet-sync.mjs', 'migrate']);
    expect(service('migrate').restart).toBe('no');
  });

  it('starts the daemon only after the migrations completed, with a config the daemon accepts', () => {
    const daemon = service('daemon');
    expect(daemon.command).toEqual(['node', 'bin/afilnet-sync.mjs', 'start']);
    expect(daemon.depends_on?.migrate).toEqual({ condition: 'service_completed_successfully' });
    const env = withDefaults(daemon.environment ?? {});
    const config = loadDaemonConfig(env);
    expect(config.AFILNET_BASE_URL).toBe('http://emulator:8787');
    expect([config.AFILNET_USER, config.AFILNET_PASSWORD]).toEqual(['demo', 'demo']);
    expect(config.ADMIN_HOST).toBe('0.0.0.0');
    expect(config.ADMIN_TOKEN?.length).toBeGreaterThanOrEqual(16);
    expect(config.DATABASE_URL).toMatch(/@postgres:5432\//);
    expect(config.REDIS_URL).toBe('redis://redis:6379');
  });

  it('loads the demo dataset with psql from a file that exists, after migrating', () => {
    const demo = service('demo-data');
    expect(demo.command?.[0]).toBe('psql');
    expect(demo.depends_on?.migrate).toEqual({ condition: 'service_completed_successfully' });
    const [source] = (demo.volumes?.[0] ?? '').split(':');
    expect(source && existsSync(source)).toBe(true);
  });
});

describe('Dockerfile', () => {
  const dockerfile = readFileSync('Dockerfile', 'utf8');

  it('builds dist/ in one stage, installs production dependencies in another, runs on node:22-slim as a non-root user', () => {
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:22-slim$/m);
    expect(dockerfile).toMatch(/^FROM \$\{NODE_IMAGE\} AS build$/m);
    expect(dockerfile).toMatch(/^RUN npm run build$/m);
    expect(dockerfile).toMatch(/^FROM \$\{NODE_IMAGE\} AS deps$/m);
    expect(dockerfile).toMatch(/^RUN (--mount=\S+ )?npm ci --omit=dev/m);
    expect(dockerfile).toMatch(/^COPY --from=deps \/app\/node_modules /m);
    expect(dockerfile).toMatch(/^COPY --from=build \/app\/dist /m);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^HEALTHCHECK [\s\S]*?CMD [^\n]*\/healthz/m);
    expect(dockerfile).toMatch(/^CMD \["node", "bin\/afilnet-sync\.mjs", "start"\]$/m);
  });

  it('agrees with package.json on the Node major', () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { engines: { node: string } };
    const major = /node:(\d+)/.exec(dockerfile)?.[1];
    expect(pkg.engines.node).toMatch(new RegExp(`^>=${major}\\.`));
  });
});
