/**
 * Resync benchmark (`npm run bench:resync -- [--quick]`): one group of 100,000 and (unless
 * --quick) 1,000,000 contacts, held alike by the emulator and the database, then 1 % drift made
 * in the emulator (a third deleted, a third renamed, a third strangers added). Measures the local
 * phase of a resync — read the whole group, COPY it in, diff, store the plan — in a child process,
 * so its peak RSS (VmHWM) is the planner's alone, not the emulator's. Checks the plan found exactly
 * the drift, and compares the calls it plans with the lower bound. Writes
 * bench/results/resync-<timestamp>.json. Targets: 1,000,000 in < 60 s and < 256 MiB.
 *
 * Env: DATABASE_URL (a role that may CREATE DATABASE), REDIS_URL.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import pg from 'pg';
import { AfilnetClient } from '../src/afilnet/index.ts';
import { startEmulator } from '../src/emulator/index.ts';
import { createLogger } from '../src/observability/logger.ts';
import { lockGroup } from '../src/resync/resync-lock.ts';
import { planGroup } from '../src/resync/plan-group.ts';
import { createRun } from '../src/resync/resync-store.ts';
import type { KindCounts } from '../src/resync/resync-types.ts';
import { ApiCaller } from '../src/gateway/api-caller.ts';
import { RateBudget } from '../src/gateway/rate-budget.ts';
import {
  benchStores,
  createBenchDatabase,
  dropPrefix,
  freshPrefix,
  machineInfo,
} from './bench-env.ts';

const BATCH_SIZE = 500; // the daemon's AFILNET_BATCH_SIZE default: adds per addcontactlist call
const LOAD_BATCH = 50_000; // contacts per addcontactlist call when filling the emulator
const mobile = (i: number) => `35${String(i).padStart(9, '0')}`;
const emulatorClient = (baseUrl: string) =>
  new AfilnetClient({ baseUrl, user: 'demo', password: 'demo', auth: 'post' });

/** What the child process measured. */
interface ChildResult {
  planMs: number;
  readMs: number;
  diffMs: number;
  read: number;
  counts: KindCounts;
  peakRssMiB: number;
}

interface ChildArgs {
  databaseUrl: string;
  redisUrl: string;
  prefix: string;
  emulatorUrl: string;
  runId: string;
  remoteId: string;
}

/** The measured part, in a process of its own: plan one group, report time and peak RSS. */
async function child(args: ChildArgs): Promise<void> {
  const pool = new pg.Pool({ connectionString: args.databaseUrl, max: 3 });
  const redis = new Redis(args.redisUrl, { maxRetriesPerRequest: null });
  const client = emulatorClient(args.emulatorUrl);
  const logger = createLogger({ level: 'warn' });
  const caller = new ApiCaller(new RateBudget(redis, args.prefix, 1_000), null, logger);
  // When the read ended, seen from outside planGroup: the run's progress turns to `diffing`.
  let readDoneAt = 0;
  const watcher = setInterval(() => {
    void pool
      .query<{ phase: string }>(
        `SELECT progress->'g'->>'phase' AS phase FROM sync_resync_runs WHERE id = $1`,
        [args.runId],
      )
      .then((r) => {
        if (readDoneAt === 0 && r.rows[0]?.phase === 'diffing') readDoneAt = performance.now();
      });
  }, 100);
  const started = performance.now();
  const lock = await lockGroup(pool, 'g');
  const plan = await planGroup({ pool, client, caller, logger }, lock.client, {
    runId: args.runId,
    groupId: 'g',
    remoteId: args.remoteId,
    shape: { type: 'mobile', fields: ['mobile', 'name'] },
    apply: false,
  });
  const ended = performance.now();
  clearInterval(watcher);
  await lock.release();
  const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
  const result: ChildResult = {
    planMs: Math.round(ended - started),
    readMs: Math.round((readDoneAt || ended) - started),
    diffMs: Math.round(ended - (readDoneAt || ended)),
    read: plan.read,
    counts: plan.counts,
    peakRssMiB: Math.round(Number(hwm) / 1024),
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  await client.close();
  await pool.end();
  redis.disconnect();
}

function runChild(args: ChildArgs): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const proc = spawn(
      process.execPath,
      ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', JSON.stringify(args)],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
    proc.on('error', reject);
    proc.on('exit', (code) => {
      if (code !== 0) reject(new Error(`planning child exited with ${code}`));
      else resolve(JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as ChildResult);
    });
  });
}

/** One remote group of `size` contacts; their ids run on from `firstId`. */
async function fillEmulator(
  client: AfilnetClient,
  size: number,
): Promise<{ remoteId: string; firstId: number }> {
  const created = await client.creategroup({
    name: 'Bench',
    type: 'mobile',
    fields: ['mobile', 'name'],
  });
  const remoteId = created.idgroup as string;
  let firstId = 0;
  for (let from = 1; from <= size; from += LOAD_BATCH) {
    const batch = Array.from({ length: Math.min(LOAD_BATCH, size - from + 1) }, (_, k) => ({
      mobile: mobile(from + k),
      name: `Name ${from + k}`,
    }));
    const added = (await client.addcontactlist(remoteId, batch)).added ?? [];
    // The database's state rows are computed from the ids, so they must be consecutive.
    added.forEach((a, k) => {
      if (from === 1 && k === 0) firstId = Number(a.idcontact);
      if (Number(a.idcontact) !== firstId + from - 1 + k) throw new Error('ids not consecutive');
    });
  }
  return { remoteId, firstId };
}

/** Fills the emulator and the database alike, then makes 1 % drift in the emulator. */
async function scenario(size: number): Promise<Record<string, unknown>> {
  const stores = benchStores();
  const db = await createBenchDatabase(stores.databaseUrl);
  const emulator = await startEmulator();
  const prefix = freshPrefix('resync');
  const client = emulatorClient(emulator.url);
  const pool = new pg.Pool({ connectionString: db.url, max: 2 });
  try {
    const setupStarted = performance.now();
    const { remoteId, firstId } = await fillEmulator(client, size);
    await pool.query(`SET session_replication_role = replica`); // no capture triggers: no daemon here
    await pool.query(
      `INSERT INTO groups (id, name, type, fields, afilnet_id) VALUES ('g', 'Bench', 'mobile', '{mobile,name}', $1);
       INSERT INTO contacts (id, mobile, attributes)
         SELECT 'c' || i, '35' || lpad(i::text, 9, '0'), jsonb_build_object('name', 'Name ' || i)
         FROM generate_series(1, ${size}) i;
       INSERT INTO group_members SELECT 'g', 'c' || i FROM generate_series(1, ${size}) i;
       INSERT INTO sync_group_state (group_id, remote_id, type, name, synced_fields, dirty)
         VALUES ('g', $1, 'mobile', 'Bench', '{mobile,name}', false);
       INSERT INTO sync_member_state (group_id, contact_id, remote_id, main_value, synced_fields)
         SELECT 'g', 'c' || i, (${firstId} + i - 1)::text, '35' || lpad(i::text, 9, '0'),
                jsonb_build_object('mobile', '35' || lpad(i::text, 9, '0'), 'name', 'Name ' || i)
         FROM generate_series(1, ${size}) i;
       ANALYZE;`.replaceAll('$1', `'${remoteId}'`),
    );
    // 1 % drift, spread over the group: deleted, renamed, and strangers added.
    const third = Math.floor(size / 300);
    const step = Math.floor(size / (2 * third));
    for (let k = 0; k < third; k++) {
      const i = 1 + 2 * k * step;
      await client.deletecontact(remoteId, String(firstId + i - 1));
      await client.modifycontact(remoteId, String(firstId + i + step - 1), { name: 'Drifted' });
    }
    const extra = size / 100 - 2 * third;
    await client.addcontactlist(
      remoteId,
      Array.from({ length: extra }, (_, k) => ({
        mobile: `36${String(k).padStart(9, '0')}`,
        name: 'Stranger',
      })),
    );
    const setupMs = Math.round(performance.now() - setupStarted);

    const runId = await createRun(pool, { startedBy: 'bench', dryRun: true, groupIds: ['g'] });
    const measured = await runChild({
      databaseUrl: db.url,
      redisUrl: stores.redisUrl,
      prefix,
      emulatorUrl: emulator.url,
      runId,
      remoteId,
    });
    const c = measured.counts;
    const drift = { add: third, modify: third, delete: extra };
    // The plan is exact when it found the drift made, nothing more, nothing less.
    const exact =
      JSON.stringify(c) === JSON.stringify({ add: third, delete: extra, modify: third });
    const adds = (n: number) => Math.ceil(n / BATCH_SIZE);
    const callsPlanned =
      2 + adds(c.add ?? 0) + (c.modify ?? 0) + (c.delete ?? 0) + (c.duplicate ?? 0);
    const callsLowerBound = 2 + adds(third) + third + extra;
    return { size, drift, setupMs, ...measured, exact, callsPlanned, callsLowerBound };
  } finally {
    await client.close();
    await pool.end();
    await emulator.close();
    await db.drop();
    await dropPrefix(stores.redisUrl, prefix);
  }
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv[0] === '--child') return child(JSON.parse(argv[1] ?? '{}') as ChildArgs);
  const sizes = argv.includes('--quick') ? [100_000] : [100_000, 1_000_000];
  const results: Record<string, unknown>[] = [];
  for (const size of sizes) {
    process.stderr.write(`resync bench: ${size.toLocaleString('en')} contacts…\n`);
    const r = await scenario(size);
    results.push(r);
    process.stdout.write(
      `${String(size).padStart(9)} contacts: plan ${(Number(r.planMs) / 1000).toFixed(1)} s ` +
        `(read+COPY ${(Number(r.readMs) / 1000).toFixed(1)} s, diff+store ${(Number(r.diffMs) / 1000).toFixed(1)} s), ` +
        `peak RSS ${String(r.peakRssMiB)} MiB, plan ${r.exact ? 'exact' : 'NOT exact'} ${JSON.stringify(r.counts)}, ` +
        `calls planned ${String(r.callsPlanned)} vs lower bound ${String(r.callsLowerBound)}\n`,
    );
  }
  const dir = fileURLToPath(new URL('./results/', import.meta.url));
  const file = `${dir}resync-${new Date().toISOString().replace(/[:.]/g, '-')}.json`;
  await mkdir(dir, { recursive: true });
  await writeFile(
    file,
    JSON.stringify({ machine: await machineInfo(benchStores()), results }, null, 2),
  );
  process.stdout.write(`wrote ${file}\n`);
}

await main();
