/**
 * Change-capture benchmark (`npm run bench:capture`): what the capture triggers cost a bulk writer,
 * and how fast the relay turns the outbox into queued groups. Not a test: it prints figures and
 * writes them to bench/results/capture-<timestamp>.json.
 *
 * Env: DATABASE_URL (a role that may CREATE DATABASE), REDIS_URL, BENCH_CONTACTS (100000),
 * BENCH_RUNS (5), BENCH_VARIANTS (comma list of: on, off).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { Redis } from 'ioredis';
import pg from 'pg';
import { OutboxRelay } from '../src/capture/outbox-relay.ts';
import { migrate } from '../src/db/migrate.ts';
import { createLogger } from '../src/observability/logger.ts';
import { GroupQueue } from '../src/sync/group-queue.ts';

const env = process.env;
const DATABASE_URL = env.DATABASE_URL ?? 'postgres://postgres:postgres@127.0.0.1:5432/postgres';
const REDIS_URL = env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const CONTACTS = Number(env.BENCH_CONTACTS ?? 100_000);
const RUNS = Math.max(3, Number(env.BENCH_RUNS ?? 5));
const GROUPS = 20;
const RELAY_BATCH = 5_000; // the daemon's RELAY_BATCH default
const CLOCK_TICKS = 100; // Linux USER_HZ

type Variant = 'on' | 'off';
const VARIANTS = (env.BENCH_VARIANTS ?? 'on,off').split(',') as Variant[];
const VARIANT_SETUP: Record<Variant, string> = {
  on: '',
  // Keeps the foreign keys (system triggers) and drops only capture, touch and notify triggers.
  off: `ALTER TABLE groups DISABLE TRIGGER USER; ALTER TABLE contacts DISABLE TRIGGER USER;
        ALTER TABLE group_members DISABLE TRIGGER USER;`,
};

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
};

function urlOf(name: string): string {
  const url = new URL(DATABASE_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: DATABASE_URL });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** A fresh database cloned from the migrated template, with `setup` applied and groups made. */
async function freshDatabase(
  template: string,
  setup: string,
): Promise<{ url: string; name: string }> {
  const name = `bench_capture_${randomBytes(4).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE ${name} TEMPLATE ${template}`));
  const url = urlOf(name);
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  await c.query(setup);
  await c.query(
    `INSERT INTO groups (id, name, type, fields)
       SELECT 'g' || i, 'Group ' || i, 'mobile', '{mobile,name}' FROM generate_series(0, ${GROUPS - 1}) i;
     DELETE FROM sync_outbox; CHECKPOINT;`,
  );
  await c.end();
  return { url, name };
}

const dropDatabase = (name: string) =>
  admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));

/**
 * CPU time (ms) a local Postgres backend has used, from /proc; null when the server is remote.
 * On a shared machine wall time swings with other load, CPU time much less.
 */
async function backendCpuMs(pid: number): Promise<number | null> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // A server in a container has its own pid numbering: the pid here may be another program.
    if (!stat.includes('(postgres)')) return null;
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of the whole line: 12 and 13 after "pid (comm)".
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return null;
  }
}

/** A CRM's bulk load: CONTACTS contacts, each a member of two groups, in one transaction. */
async function bulkInsert(url: string): Promise<{ ms: number; cpuMs: number | null }> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  const pid = (await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid ?? 0;
  const cpuBefore = await backendCpuMs(pid);
  const started = performance.now();
  await c.query(`
    BEGIN;
    INSERT INTO contacts (id, mobile, attributes)
      SELECT 'c' || i, '34600' || lpad(i::text, 6, '0'), jsonb_build_object('name', 'Name ' || i)
      FROM generate_series(1, ${CONTACTS}) i;
    INSERT INTO group_members (group_id, contact_id)
      SELECT 'g' || ((i + k) % ${GROUPS}), 'c' || i FROM generate_series(1, ${CONTACTS}) i, (VALUES (0), (7)) v(k);
    COMMIT;`);
  const ms = performance.now() - started;
  const cpuAfter = await backendCpuMs(pid);
  await c.end();
  return { ms, cpuMs: cpuBefore === null || cpuAfter === null ? null : cpuAfter - cpuBefore };
}

interface RelayRun {
  scenario: string;
  outboxRows: number;
  marks: number;
  ms: number;
}

/** Fills the outbox with `fill`, then times OutboxRelay.drain() into a real GroupQueue. */
async function relayRun(template: string, scenario: string, fill: string): Promise<RelayRun> {
  const db = await freshDatabase(template, '');
  const pool = new pg.Pool({ connectionString: db.url, max: 2 });
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const queue = new GroupQueue(redis, `bench-capture-${randomBytes(4).toString('hex')}`, 60_000, 1);
  try {
    await bulkInsert(db.url);
    if (fill) await pool.query(fill);
    await pool.query('VACUUM ANALYZE sync_outbox');
    const outbox = await pool.query<{ n: string }>('SELECT count(*) AS n FROM sync_outbox');
    const relay = new OutboxRelay({
      pool,
      databaseUrl: db.url,
      enqueueGroups: (ids) => queue.enqueue(ids),
      logger: createLogger({ level: 'silent' }),
      pollMs: 60_000,
      batchSize: RELAY_BATCH,
    });
    const started = performance.now();
    const claimed = await relay.drain();
    const ms = performance.now() - started;
    const marks = await pool.query<{ n: string }>('SELECT count(*) AS n FROM sync_dirty');
    if (claimed !== Number(outbox.rows[0]?.n))
      throw new Error(`drained ${claimed} of ${outbox.rows[0]?.n}`);
    return { scenario, outboxRows: claimed, marks: Number(marks.rows[0]?.n), ms };
  } finally {
    await queue.queue.obliterate({ force: true });
    await queue.close();
    redis.disconnect();
    await pool.end();
    await dropDatabase(db.name);
  }
}

/** Bulk loads under each trigger variant, interleaved with the order rotating each run. */
async function measureInserts(template: string) {
  const times: Record<string, number[]> = {};
  const cpu: Record<string, number[]> = {};
  for (let run = 0; run < RUNS; run++) {
    // Rotating the order spreads drift (cache, autovacuum, other load) over every variant.
    const order = VARIANTS.map((_, i) => VARIANTS[(i + run) % VARIANTS.length] as Variant);
    for (const variant of order) {
      const db = await freshDatabase(template, VARIANT_SETUP[variant]);
      const { ms, cpuMs } = await bulkInsert(db.url);
      await dropDatabase(db.name);
      (times[variant] ??= []).push(ms);
      if (cpuMs !== null) (cpu[variant] ??= []).push(cpuMs);
      console.log(
        `run ${run + 1} ${variant.padEnd(9)} ${ms.toFixed(0)} ms, backend CPU ${cpuMs} ms`,
      );
    }
  }
  const ratio = (xs: Record<string, number[]>, v: Variant): number | null => {
    const base = median(xs.off ?? []);
    return base && xs[v] ? Number((median(xs[v]) / base).toFixed(2)) : null;
  };
  return VARIANTS.map((v) => ({
    variant: v,
    runsMs: (times[v] ?? []).map(Math.round),
    medianMs: Math.round(median(times[v] ?? [])),
    rowsPerSec: Math.round((CONTACTS * 3) / (median(times[v] ?? []) / 1000)),
    overhead: ratio(times, v),
    medianCpuMs: cpu[v] ? Math.round(median(cpu[v])) : null,
    cpuOverhead: ratio(cpu, v),
  }));
}

/** Relay drains of two outboxes: member rows as inserted, and contact rows it must expand. */
async function measureRelay(template: string) {
  const scenarios: Record<string, string> = {
    'member inserts': '',
    'contact updates': `DELETE FROM sync_outbox; UPDATE contacts SET attributes = attributes || '{"edited": true}'`,
  };
  const summary = [];
  for (const [scenario, fill] of Object.entries(scenarios)) {
    const runs: RelayRun[] = [];
    for (let run = 0; run < RUNS; run++) runs.push(await relayRun(template, scenario, fill));
    const ms = median(runs.map((r) => r.ms));
    const { outboxRows = 0, marks = 0 } = runs[0] ?? {};
    summary.push({
      scenario,
      outboxRows,
      marks,
      runsMs: runs.map((r) => Math.round(r.ms)),
      medianMs: Math.round(ms),
      changesPerSec: Math.round(outboxRows / (ms / 1000)),
      marksPerSec: Math.round(marks / (ms / 1000)),
    });
  }
  return summary;
}

async function main(): Promise<void> {
  const template = `bench_capture_tpl_${randomBytes(4).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE ${template}`));
  try {
    await migrate(urlOf(template));
    const insert = await measureInserts(template);
    const relay = await measureRelay(template);
    const show = <T extends { runsMs: number[] }>(rows: T[]) =>
      console.table(rows.map((r) => ({ ...r, runsMs: r.runsMs.join(' ') })));
    console.log(
      `\nBulk insert: ${CONTACTS} contacts + ${CONTACTS * 2} memberships, median of ${RUNS}`,
    );
    show(insert);
    console.log(
      `Relay: OutboxRelay.drain() into GroupQueue, batch ${RELAY_BATCH}, median of ${RUNS}`,
    );
    show(relay);
    const on = insert.find((r) => r.variant === 'on');
    const verdict = {
      triggerOverhead: on?.overhead ?? null,
      triggerCpuOverhead: on?.cpuOverhead ?? null,
      triggerOverheadTarget: 1.3,
      relayChangesPerSec: Math.min(...relay.map((r) => r.changesPerSec)),
      relayTarget: 5_000,
    };
    console.log(verdict);
    const server = await admin((c) => c.query<{ v: string }>('SHOW server_version'));
    const at = new Date().toISOString();
    const result = { at, postgres: server.rows[0]?.v, node: process.version, contacts: CONTACTS };
    await mkdir(new URL('./results/', import.meta.url), { recursive: true });
    const file = new URL(`./results/capture-${at.replace(/[:.]/g, '-')}.json`, import.meta.url);
    const json = { ...result, runs: RUNS, insert, relay, verdict };
    await writeFile(file, `${JSON.stringify(json, null, 2)}\n`);
    console.log(`written ${file.pathname}`);
  } finally {
    await dropDatabase(template);
  }
}

await main();
