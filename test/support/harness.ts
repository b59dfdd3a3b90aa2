import pg from 'pg';
import { loadDaemonConfig, type DaemonConfig } from '../../src/config/config.ts';
import { startDaemon, type RunningDaemon } from '../../src/daemon.ts';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { createTestDatabase, testPool, testRedis } from './stores.ts';

export interface EmulatorContact {
  idcontact: number | string;
  fields: Record<string, string>;
}
export interface EmulatorGroup {
  account: string;
  idgroup: number | string;
  name: string;
  type: string;
  fields: string[];
  country: string | null;
  contacts: EmulatorContact[];
}

/** Reads the emulator's whole state. */
export async function emulatorState(url: string): Promise<EmulatorGroup[]> {
  const res = await fetch(`${url}/__emulator/state`);
  return ((await res.json()) as { groups: EmulatorGroup[] }).groups;
}

/** Reads the emulator's call counters. */
export async function emulatorCalls(
  url: string,
): Promise<{ total: number; byMethod: Record<string, number>; rejected: Record<string, number> }> {
  const res = await fetch(`${url}/__emulator/calls`);
  return (await res.json()) as {
    total: number;
    byMethod: Record<string, number>;
    rejected: Record<string, number>;
  };
}

/**
 * Creates a group in the emulator through its API, as an operator linking an existing group would
 * have, and returns its remote id (read back by name: a strict-docs creategroup answers none).
 */
export async function createRemoteGroup(
  url: string,
  name: string,
  fields = 'mobile,name',
): Promise<string> {
  await fetch(`${url}/api/http/`, {
    method: 'POST',
    body: new URLSearchParams({
      class: 'group',
      method: 'creategroup',
      user: 'demo',
      password: 'demo',
      name,
      type: 'mobile',
      fields,
    }),
  });
  const group = (await emulatorState(url)).find((g) => g.name === name);
  if (!group) throw new Error(`the emulator did not create group ${name}`);
  return String(group.idgroup);
}

export async function setFaults(url: string, faults: Record<string, number>): Promise<void> {
  await fetch(`${url}/__emulator/faults`, {
    method: 'POST',
    body: JSON.stringify(faults),
    headers: { 'content-type': 'application/json' },
  });
}

/** Polls `check` until it returns true, or fails after `timeoutMs`. */
export async function waitFor(
  check: () => Promise<boolean>,
  timeoutMs: number,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

export interface Harness {
  db: pg.Pool;
  databaseUrl: string;
  emulator: RunningEmulator;
  env: Record<string, string>;
  config: Readonly<DaemonConfig>;
  daemon: RunningDaemon | null;
  startDaemon(overrides?: Record<string, string>): Promise<RunningDaemon>;
  stopDaemon(): Promise<void>;
  close(): Promise<void>;
}

/** A fresh database, Redis prefix and emulator, and a daemon configured against them. */
export async function createHarness(
  opts: { strictDocs?: boolean; env?: Record<string, string> } = {},
): Promise<Harness> {
  const database = await createTestDatabase();
  const redis = testRedis();
  const emulator = await startEmulator({ strictDocs: opts.strictDocs ?? false });
  const env: Record<string, string> = {
    DATABASE_URL: database.url,
    REDIS_URL: redis.url,
    QUEUE_PREFIX: redis.prefix,
    AFILNET_BASE_URL: emulator.url,
    AFILNET_USER: 'demo',
    AFILNET_PASSWORD: 'demo',
    AFILNET_RATE_LIMIT: '1000',
    AFILNET_BATCH_SIZE: '500',
    BATCH_WINDOW_MS: '100',
    RELAY_POLL_MS: '200',
    SWEEP_AFTER_MS: '3000',
    LOG_LEVEL: 'silent',
    // Tests count every call the emulator receives; the start check's is left out.
    START_CHECK_AFILNET: 'false',
    // Every daemon serves its admin HTTP; a free port each, so test files can run side by side.
    ADMIN_PORT: '0',
    ...opts.env,
  };
  const db = testPool(database.url, 8);
  const h: Harness = {
    db,
    databaseUrl: database.url,
    emulator,
    env,
    config: loadDaemonConfig(env),
    daemon: null,
    async startDaemon(overrides = {}) {
      const config = loadDaemonConfig({ ...env, ...overrides });
      h.daemon = await startDaemon(config, createLogger({ level: config.LOG_LEVEL }));
      return h.daemon;
    },
    async stopDaemon() {
      await h.daemon?.stop();
      h.daemon = null;
    },
    async close() {
      await h.stopDaemon();
      await db.end();
      await emulator.close();
      await database.drop();
    },
  };
  return h;
}

/** Database and emulator agree on every group's contacts (by main field), or the difference. */
export async function compareWithEmulator(h: Harness): Promise<string[]> {
  const groups = await h.db.query<{
    id: string;
    type: 'mobile' | 'email';
    fields: string[];
    afilnet_id: string | null;
  }>('SELECT id, type, fields, afilnet_id FROM groups ORDER BY id');
  const state = await emulatorState(h.emulator.url);
  const problems: string[] = [];
  for (const g of groups.rows) {
    const remote = state.find((r) => String(r.idgroup) === g.afilnet_id);
    if (!remote) {
      problems.push(`group ${g.id}: no remote group`);
      continue;
    }
    const members = await h.db.query<{
      id: string;
      mobile: string | null;
      email: string | null;
      attributes: Record<string, unknown>;
    }>(
      `SELECT c.id, c.mobile, c.email, c.attributes FROM group_members gm JOIN contacts c ON c.id = gm.contact_id WHERE gm.group_id = $1`,
      [g.id],
    );
    const main = g.type;
    const remoteByMain = new Map<string, EmulatorContact[]>();
    for (const c of remote.contacts) {
      const key = c.fields[main] ?? '';
      remoteByMain.set(key, [...(remoteByMain.get(key) ?? []), c]);
    }
    for (const [key, list] of remoteByMain) {
      if (list.length > 1)
        problems.push(`group ${g.id}: ${list.length} remote contacts with ${main} ${key}`);
    }
    const localMains = new Set<string>();
    for (const m of members.rows) {
      const value = main === 'mobile' ? m.mobile : m.email;
      if (!value) continue;
      localMains.add(value);
      const r = remoteByMain.get(value)?.[0];
      if (!r) {
        problems.push(`group ${g.id}: member ${m.id} (${value}) missing remotely`);
        continue;
      }
      for (const f of g.fields) {
        const want =
          f === 'mobile'
            ? m.mobile
            : f === 'email'
              ? m.email
              : (m.attributes[f] as string | undefined);
        if ((want ?? '') !== (r.fields[f] ?? '')) {
          problems.push(
            `group ${g.id}: member ${m.id} field ${f} is "${r.fields[f] ?? ''}", want "${want ?? ''}"`,
          );
        }
      }
    }
    for (const key of remoteByMain.keys()) {
      if (!localMains.has(key)) problems.push(`group ${g.id}: unexpected remote contact ${key}`);
    }
  }
  return problems;
}
