/**
 * Change-capture benchmark (`npm run bench:capture`): what the capture triggers cost a bulk writer,
 * and how fast the relay turns the outbox into queued groups. Not a test: it prints figures and
 * writes them to bench/results/capture-<timestamp>.json.
 *
 * Env: DATABASE_URL (a role that may CREATE DATABASE), REDIS_URL, BENCH_CONTACTS (100000),
 * BENCH_RUNS (5), BENCH_VARIANTS (comma list of: on, off, statement).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { Redis } from 'ioredis';
import pg from 'pg';
import { OutboxRelay } from '../src/capture/outbox-relay.ts';
import { migrate } from '../src/db/migrate.ts';
import { createLogger } from '../src/observability/logger.ts';
import { GroupQueue } from '../src/sync/group-queue.ts';
import { STATEMENT_CAPTURE_SQL } from './capture-statement-triggers.ts';

const env = process.env;
const DATABASE_URL = env.DATABASE_URL ?? 'postgres://postgres:postgres@127.0.0.1:5432/postgres';
const REDIS_URL = env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const CONTACTS = Number(env.BENCH_CONTACTS ?? 100_000);
const RUNS = Math.max(3, Number(env.BENCH_RUNS ?? 5));
const GROUPS = 20;
const RELAY_BATCH = 5_000; // the daemon's RELAY_BATCH default
const CLOCK_TICKS = 100; // Linux USER_HZ

type Variant = 'on' | 'off' | 'statement';
const VARIANTS = (env.BENCH_VARIANTS ?? 'on,off,statement').split(',') as Variant[];
const VARIANT_SETUP: Record<Variant, string> = {
  on: '',
  // Keeps the foreign keys (system triggers) and drops only capture, touch and notify triggers.
  off: `ALTER TABLE groups DISABLE TRIGGER USER; ALTER TABLE contacts DISABLE TRIGGER USER;
        ALTER TABLE group_members DISABLE TRIGGER USER;`,
  statement: STATEMENT_CAPTURE_SQL,
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
    await pool.query(fill);
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

async function main(): Promise<void> {
  const template = `bench_capture_tpl_${randomBytes(4).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE ${template}`));
  await migrate(urlOf(template));
  try {
    // Interleaved, the order rotating each run, so drift (cache, autovacuum) hits every variant.
    const times: Record<string, number[]> = {};
    const cpu: Record<string, number[]> = {};
    for (let run = 0; run < RUNS; run++) {
      const order = VARIANTS.map((_, i) => VARIANTS[(i + run) % VARIANTS.length] as Variant);
      for (const variant of order) {
        const db = await freshDatabase(template, VARIANT_SETUP[variant]);
        const { ms, cpuMs } = await bulkInsert(db.url);
        await dropDatabase(db.name);
        (times[variant] ??= []).push(ms);
        if (cpuMs !== null) (cpu[variant] ??= []).push(cpuMs);
        console.log(
          `run ${run + 1} ${variant.padEnd(9)} ${ms.toFixed(0)} ms (backend CPU ${cpuMs ?? '?'} ms)`,
        );
      }
    }
    const ratio = (xs: Record<string, number[]>, v: Variant): number | null => {
      const base = median(xs.off ?? []);
      return base && xs[v] ? Number((median(xs[v]) / base).toFixed(2)) : null;
    };
    const insert = VARIANTS.map((v) => ({
      variant: v,
      runsMs: (times[v] ?? []).map(Math.round),
      medianMs: Math.round(median(times[v] ?? [])),
      rowsPerSec: Math.round((CONTACTS * 3) / (median(times[v] ?? []) / 1000)),
      overhead: ratio(times, v),
      medianCpuMs: cpu[v] ? Math.round(median(cpu[v])) : null,
      cpuOverhead: ratio(cpu, v),
    }));

    const relay: RelayRun[] = [];
    for (let run = 0; run < RUNS; run++) {
      // Memberships inserted: one 'member' row each. Contact edits: one 'contact' row each, expanded
      // by the relay to every membership (two per contact).
      relay.push(await relayRun(template, 'member inserts', 'SELECT 1'));
      relay.push(
        await relayRun(
          template,
          'contact updates',
          `DELETE FROM sync_outbox; UPDATE contacts SET attributes = attributes || '{"edited": true}'`,
        ),
      );
    }
    const relaySummary = ['member inserts', 'contact updates'].map((scenario) => {
      const runs = relay.filter((r) => r.scenario === scenario);
      const ms = median(runs.map((r) => r.ms));
      return {
        scenario,
        outboxRows: runs[0]?.outboxRows ?? 0,
        marks: runs[0]?.marks ?? 0,
        runsMs: runs.map((r) => Math.round(r.ms)),
        medianMs: Math.round(ms),
        changesPerSec: Math.round((runs[0]?.outboxRows ?? 0) / (ms / 1000)),
        marksPerSec: Math.round((runs[0]?.marks ?? 0) / (ms / 1000)),
      };
    });

    console.log(
      `\nBulk insert: ${CONTACTS} contacts + ${CONTACTS * 2} memberships, one transaction, median of ${RUNS}`,
    );
    console.table(insert.map((r) => ({ ...r, runsMs: r.runsMs.join(' ') })));
    console.log(
      `Relay: OutboxRelay.drain() into GroupQueue, batch ${RELAY_BATCH}, median of ${RUNS}`,
    );
    console.table(relaySummary.map((r) => ({ ...r, runsMs: r.runsMs.join(' ') })));
    const verdict = {
      triggerOverhead: insert.find((r) => r.variant === 'on')?.overhead ?? null,
      triggerCpuOverhead: insert.find((r) => r.variant === 'on')?.cpuOverhead ?? null,
      triggerOverheadTarget: 1.3,
      relayChangesPerSec: Math.min(...relaySummary.map((r) => r.changesPerSec)),
      relayTarget: 5_000,
    };
    console.log(verdict);
    const server = await admin((c) => c.query<{ v: string }>('SHOW server_version'));
    const result = {
      at: new Date().toISOString(),
      postgres: server.rows[0]?.v,
      node: process.version,
      contacts: CONTACTS,
      runs: RUNS,
      insert,
      relay: relaySummary,
      verdict,
    };
    await mkdir(new URL('./results/', import.meta.url), { recursive: true });
    const file = new URL(
      `./results/capture-${result.at.replace(/[:.]/g, '-')}.json`,
      import.meta.url,
    );
    await writeFile(file, `${JSON.stringify(result, null, 2)}\n`);
    console.log(`written ${file.pathname}`);
  } finally {
    await dropDatabase(template);
  }
}

await main();
