/**
 * Bulk-load benchmark (`npm run bench:bulk -- [--quick] [--modes normal,strict-docs]`), issue 12's
 * "Scale" targets. Per emulator mode (unthrottled, in a child process), a daemon in a child process
 * (`afilnet-sync start`, so its RSS is its own, sampled every 200 ms from /proc and read as VmHWM):
 *
 * 1. 1,000,000 contacts are written and drained first (no group holds them yet: nothing to send);
 * 2. ONE statement makes all of them members of one mobile group: they must reach Afilnet in
 *    exactly 2,000 `addcontactlist` calls (batch 500) within 60 s of the commit;
 * 3. ONE statement changes the name of 10,000 of them: 10,000 `modifycontact` calls (in
 *    strict-docs mode the adds answered no ids, so one `getcontacts` read of the 1,000,000-member
 *    group into `sync_remote_snapshot` first, and `learnRemoteIds`).
 *
 * Targets: daemon peak RSS ≤ 256 MiB, and no query of the daemon over 5 s (its slow-query log,
 * `DATABASE_SLOW_QUERY_MS=5000`, read from its warn lines). Writes
 * bench/results/bulk-load-<timestamp>.json and prints a table. Env: DATABASE_URL (a role that may
 * CREATE DATABASE), REDIS_URL.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import {
  callsBetween,
  createRemoteGroups,
  emulatorCalls,
  insertGroups,
  pendingWork,
  type GroupDef,
} from './bench-daemon.ts';
import {
  benchStores,
  createBenchDatabase,
  dropPrefix,
  freshPrefix,
  machineBusy,
  machineInfo,
  round,
  sleep,
} from './bench-env.ts';
import { startEmulatorProcess } from './emulator-process.ts';
import { envOfStage, parseDockerfile } from '../test/support/dockerfile-replay.ts';

/** What the image runs: the compiled build (`npm run build`), not the sources through tsx. */
const COMPILED = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
const BATCH = 500;
const SLOW_MS = 5_000;
const TARGET_ADD_SECONDS = 60;
const TARGET_RSS_MIB = 256;

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    modes: { type: 'string', default: 'normal,strict-docs' },
    members: { type: 'string' },
    modifies: { type: 'string' },
    /** Extra environment for the daemon, e.g. `MALLOC_ARENA_MAX=2,NODE_OPTIONS=--max-semi-space-size=4`. */
    'daemon-env': { type: 'string', default: '' },
  },
});
/**
 * The environment the image gives the daemon: the `ENV` lines of the Dockerfile's last stage
 * (NODE_ENV, NODE_OPTIONS, MALLOC_ARENA_MAX), so the figures are those of what users deploy.
 */
function imageEnv(): Record<string, string> {
  const dockerfile = readFileSync(fileURLToPath(new URL('../Dockerfile', import.meta.url)), 'utf8');
  const runtime = parseDockerfile(dockerfile).stages.at(-1);
  return runtime ? envOfStage(runtime) : {};
}
const DAEMON_ENV = Object.fromEntries(
  values['daemon-env']
    .split(',')
    .filter((kv) => kv.includes('='))
    .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
);
const MEMBERS = Number(values.members ?? (values.quick ? 100_000 : 1_000_000));
const MODIFIES = Number(values.modifies ?? (values.quick ? 1_000 : 10_000));
const MODES = values.modes.split(',') as ('normal' | 'strict-docs')[];
const GROUP: GroupDef = { id: 'bulk', type: 'mobile', fields: ['mobile', 'name'] };

const load1 = () => round(loadavg()[0] ?? 0, 2);

/** The daemon as users run it, with every line it logs kept (warn and above) and its pid. */
function spawnDaemon(env: Record<string, string>) {
  if (!existsSync(COMPILED)) throw new Error(`no compiled build at ${COMPILED}: run npm run build`);
  const child = spawn(process.execPath, [COMPILED, 'start'], {
    env: { PATH: process.env.PATH ?? '', ...imageEnv(), ...env, ...DAEMON_ENV },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let partial = '';
  const keep = (d: Buffer) => {
    const parts = (partial + d.toString()).split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts.filter((l) => l.trim() !== ''));
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  // RSS: VmRSS sampled every 200 ms, and the kernel's own high-water mark (VmHWM) at the end.
  let peakRssKiB = 0;
  let lastHwmKiB = 0;
  const samples: { t: number; kib: number }[] = [];
  const readStatus = () => {
    try {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      const rss = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
      lastHwmKiB = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? lastHwmKiB);
      peakRssKiB = Math.max(peakRssKiB, rss);
      samples.push({ t: Date.now(), kib: rss });
    } catch {
      // exited
    }
  };
  const timer = setInterval(readStatus, 200);
  /** CPU seconds (user + system) the daemon has used so far. */
  const cpuSeconds = () => {
    try {
      const stat = readFileSync(`/proc/${child.pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return round((Number(f[11]) + Number(f[12])) / 100, 1);
    } catch {
      return Number.NaN;
    }
  };
  return {
    pid: child.pid,
    lines,
    cpuSeconds,
    running: () => child.exitCode === null && child.signalCode === null,
    peak: () => {
      readStatus();
      return { sampledMiB: round(peakRssKiB / 1024, 1), hwmMiB: round(lastHwmKiB / 1024, 1) };
    },
    rssNowMiB: () => round((samples.at(-1)?.kib ?? 0) / 1024, 1),
    async stop() {
      readStatus();
      clearInterval(timer);
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    },
  };
}

async function waitFor(
  what: string,
  timeoutMs: number,
  pollMs: number,
  done: () => Promise<boolean>,
  alive: () => boolean,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (!alive()) throw new Error(`the daemon exited while waiting for ${what}`);
    if (Date.now() > deadline) throw new Error(`${what}: not done after ${timeoutMs} ms`);
    await sleep(pollMs);
  }
}

interface Request {
  at: number;
  method: string | null;
  outcome: string;
}
const requests = async (url: string): Promise<Request[]> =>
  (await (await fetch(`${url}/__emulator/requests`)).json()) as Request[];

interface SlowQuery {
  ms: number;
  sql: string;
  phase: string;
}

export interface BulkModeResult {
  mode: 'normal' | 'strict-docs';
  members: number;
  modifies: number;
  insertCommitSeconds: number;
  /** From the commit of the one INSERT to the last addcontactlist's arrival at the emulator. */
  secondsToLastAdd: number;
  secondsToDrainedAfterAdds: number;
  addCalls: Record<string, number>;
  /** From the commit of the one UPDATE to the last modifycontact's arrival. */
  secondsToLastModify: number;
  modifyCalls: Record<string, number>;
  failedCalls: number;
  peakRssMiB: { sampled: number; hwm: number };
  rssAfterAddsMiB: number;
  /** The daemon's CPU seconds in each phase: what the work costs, whatever the machine's load. */
  daemonCpuSeconds: { adds: number; modifies: number };
  slowQueries: SlowQuery[];
  warnings: string[];
  synced: { members: number; withRemoteId: number };
  load: { start: number; afterAdds: number; end: number };
  machineCpuBusy: number | null;
}

async function runMode(mode: 'normal' | 'strict-docs'): Promise<BulkModeResult> {
  const stores = benchStores();
  const strictDocs = mode === 'strict-docs';
  const database = await createBenchDatabase(stores.databaseUrl);
  const emulator = await startEmulatorProcess({ strictDocs });
  const prefix = freshPrefix('bulk');
  const db = new pg.Pool({ connectionString: database.url, max: 3 });
  db.on('error', () => undefined);
  let daemon: ReturnType<typeof spawnDaemon> | null = null;
  const busy = machineBusy();
  const loadStart = load1();
  try {
    const remoteIds = strictDocs ? await createRemoteGroups(emulator.url, [GROUP]) : undefined;
    await insertGroups(db, [GROUP], remoteIds);
    // The contacts first, in no group: their capture names no member, so they cost no call.
    await db.query(
      `INSERT INTO contacts (id, mobile, attributes)
       SELECT 'c' || i, '36' || lpad(i::text, 9, '0'), jsonb_build_object('name', 'Name ' || i)
       FROM generate_series(1, $1::int) i`,
      [MEMBERS],
    );
    await db.query('VACUUM ANALYZE contacts');
    daemon = spawnDaemon({
      DATABASE_URL: database.url,
      REDIS_URL: stores.redisUrl,
      QUEUE_PREFIX: prefix,
      AFILNET_BASE_URL: emulator.url,
      AFILNET_USER: 'demo',
      AFILNET_PASSWORD: 'demo',
      ADMIN_PORT: '0',
      AFILNET_RATE_LIMIT: '100000',
      AFILNET_BATCH_SIZE: String(BATCH),
      DATABASE_SLOW_QUERY_MS: String(SLOW_MS),
      LOG_LEVEL: 'warn',
    });
    const d = daemon;
    const phaseLines = (from: number, to: number, phase: string): SlowQuery[] =>
      d.lines
        .slice(from, to)
        .map((l) => {
          try {
            return JSON.parse(l) as { msg?: string; ms?: number; sql?: string };
          } catch {
            return {};
          }
        })
        .filter((l) => l.msg === 'slow Postgres query')
        .map((l) => ({ ms: l.ms ?? 0, sql: l.sql ?? '', phase }));
    await waitFor(
      'setup drained',
      120_000,
      500,
      async () => (await pendingWork(db)) === 0,
      d.running,
    );
    const setupLines = d.lines.length;

    // 2. One statement: every contact joins the group.
    const c0 = await emulatorCalls(emulator.url);
    const cpu0 = d.cpuSeconds();
    const t0 = Date.now();
    await db.query(
      `INSERT INTO group_members (group_id, contact_id)
       SELECT $1, 'c' || i FROM generate_series(1, $2::int) i`,
      [GROUP.id, MEMBERS],
    );
    const committed = performance.timeOrigin + performance.now();
    const insertCommitSeconds = round((Date.now() - t0) / 1000, 1);
    const expectedAdds = Math.ceil(MEMBERS / BATCH);
    console.log(`  [${mode}] INSERT of ${MEMBERS} members committed in ${insertCommitSeconds} s`);
    let lastLog = Date.now();
    await waitFor(
      `${expectedAdds} addcontactlist calls`,
      600_000,
      250,
      async () => {
        const n = (await emulatorCalls(emulator.url)).byMethod.addcontactlist ?? 0;
        const adds = n - (c0.byMethod.addcontactlist ?? 0);
        if (Date.now() - lastLog > 10_000) {
          lastLog = Date.now();
          console.log(
            `  [${mode}] ${adds} adds after ${round((performance.timeOrigin + performance.now() - committed) / 1000, 0)} s, RSS ${d.rssNowMiB()} MiB, load ${load1()}`,
          );
        }
        return adds >= expectedAdds;
      },
      d.running,
    );
    // Drained: the marks cleared (counted rarely: a count of a million marks costs CPU too).
    await waitFor(
      'adds drained',
      600_000,
      1_000,
      async () => (await pendingWork(db)) === 0,
      d.running,
    );
    const drainedAt = performance.timeOrigin + performance.now();
    const c1 = await emulatorCalls(emulator.url);
    const addReqs = (await requests(emulator.url)).filter(
      (r) => r.at >= committed && r.method === 'addcontactlist',
    );
    const lastAdd = Math.max(...addReqs.map((r) => r.at));
    const rssAfterAddsMiB = d.rssNowMiB();
    const cpu1 = d.cpuSeconds();
    const loadAfterAdds = load1();
    const addLines = d.lines.length;
    console.log(
      `  [${mode}] last add ${round((lastAdd - committed) / 1000, 1)} s after the commit, RSS ${rssAfterAddsMiB} MiB, load ${loadAfterAdds}`,
    );

    // 3. One statement: MODIFIES members change a synced field.
    await db.query(
      `UPDATE contacts SET attributes = jsonb_build_object('name', 'Renamed ' || id)
       WHERE id IN (SELECT 'c' || i FROM generate_series(1, $1::int) i)`,
      [MODIFIES],
    );
    const committed2 = performance.timeOrigin + performance.now();
    await waitFor(
      `${MODIFIES} modifycontact calls`,
      600_000,
      250,
      async () => {
        const n = (await emulatorCalls(emulator.url)).byMethod.modifycontact ?? 0;
        return n - (c1.byMethod.modifycontact ?? 0) >= MODIFIES;
      },
      d.running,
    );
    await waitFor(
      'modifies drained',
      600_000,
      1_000,
      async () => (await pendingWork(db)) === 0,
      d.running,
    );
    const c2 = await emulatorCalls(emulator.url);
    const modReqs = (await requests(emulator.url)).filter(
      (r) => r.at >= committed2 && r.method === 'modifycontact',
    );
    const lastModify = Math.max(...modReqs.map((r) => r.at));
    const cpu2 = d.cpuSeconds();
    const all = await requests(emulator.url);
    const failedCalls = all.filter((r) => r.at >= committed && r.outcome !== 'SUCCESS').length;
    const synced = await db.query<{ n: string; ids: string }>(
      `SELECT count(*) FILTER (WHERE status = 'synced') AS n,
              count(*) FILTER (WHERE remote_id IS NOT NULL) AS ids
       FROM sync_member_state WHERE group_id = $1`,
      [GROUP.id],
    );
    await d.stop();
    const peak = d.peak();
    const warnings = d.lines
      .filter((l) => !l.includes('slow Postgres query'))
      .map((l) => l.slice(0, 300))
      .slice(0, 20);
    return {
      mode,
      members: MEMBERS,
      modifies: MODIFIES,
      insertCommitSeconds,
      secondsToLastAdd: round((lastAdd - committed) / 1000, 1),
      secondsToDrainedAfterAdds: round((drainedAt - committed) / 1000, 1),
      addCalls: callsBetween(c0, c1).byMethod,
      secondsToLastModify: round((lastModify - committed2) / 1000, 1),
      modifyCalls: callsBetween(c1, c2).byMethod,
      failedCalls,
      peakRssMiB: { sampled: peak.sampledMiB, hwm: peak.hwmMiB },
      rssAfterAddsMiB,
      daemonCpuSeconds: { adds: round(cpu1 - cpu0, 1), modifies: round(cpu2 - cpu1, 1) },
      slowQueries: [
        ...phaseLines(0, setupLines, 'setup'),
        ...phaseLines(setupLines, addLines, 'adds'),
        ...phaseLines(addLines, d.lines.length, 'modifies'),
      ],
      warnings,
      synced: { members: Number(synced.rows[0]?.n), withRemoteId: Number(synced.rows[0]?.ids) },
      load: { start: loadStart, afterAdds: loadAfterAdds, end: load1() },
      machineCpuBusy: busy(),
    };
  } finally {
    await daemon?.stop();
    await db.end();
    await emulator.close();
    await database.drop();
    await dropPrefix(stores.redisUrl, prefix);
  }
}

/** The figures against the targets, one row each. */
export function bulkRows(r: BulkModeResult) {
  const adds = r.addCalls.addcontactlist ?? 0;
  const expected = Math.ceil(r.members / BATCH);
  const otherAddCalls = Object.entries(r.addCalls).filter(([m]) => m !== 'addcontactlist');
  const slow = r.slowQueries.length;
  const load = `load ${r.load.start} → ${r.load.afterAdds} → ${r.load.end}`;
  const ok = (b: boolean) => (b ? 'ok' : 'MISSED');
  return [
    {
      figure: `bulk ${r.mode}: time to last add (${r.members.toLocaleString('en')} members)`,
      measured: `${r.secondsToLastAdd} s`,
      target: `≤ ${TARGET_ADD_SECONDS} s`,
      verdict: ok(r.secondsToLastAdd <= TARGET_ADD_SECONDS),
      note: `${load}; daemon CPU ${r.daemonCpuSeconds.adds} s`,
    },
    {
      figure: `bulk ${r.mode}: addcontactlist calls`,
      measured: `${adds}${otherAddCalls.length ? ` (+ ${otherAddCalls.map(([m, n]) => `${n} ${m}`).join(', ')})` : ''}`,
      target: `= ${expected}`,
      verdict: ok(adds === expected),
    },
    {
      figure: `bulk ${r.mode}: ${r.modifies} modifies`,
      measured: `${r.secondsToLastModify} s, ${Object.entries(r.modifyCalls)
        .map(([m, n]) => `${n} ${m}`)
        .join(', ')}`,
      target: `${r.modifies} modifycontact`,
      verdict: ok((r.modifyCalls.modifycontact ?? 0) === r.modifies),
    },
    {
      figure: `bulk ${r.mode}: daemon peak RSS`,
      measured: `${r.peakRssMiB.hwm} MiB (VmHWM; sampled ${r.peakRssMiB.sampled})`,
      target: `≤ ${TARGET_RSS_MIB} MiB`,
      verdict: ok(r.peakRssMiB.hwm <= TARGET_RSS_MIB),
    },
    {
      figure: `bulk ${r.mode}: daemon queries ≥ ${SLOW_MS / 1000} s`,
      measured: String(slow),
      target: '0',
      verdict: ok(slow === 0),
      note: r.slowQueries
        .map((q) => `${q.phase}: ${q.ms} ms ${q.sql.slice(0, 60)}`)
        .join('; ')
        .slice(0, 400),
    },
  ];
}

const isMain = process.argv[1] === fileURLToPath(import.meta.url);
if (isMain) {
  const stores = benchStores();
  const machine = await machineInfo(stores);
  const startedAt = new Date();
  console.log(
    `bulk load: ${MEMBERS} members, ${MODIFIES} modifies, modes ${MODES.join(', ')}; ` +
      `${machine.cpus} CPUs, load average ${loadavg()
        .map((x) => round(x, 2))
        .join(' ')}; daemon: dist/ with ${JSON.stringify({ ...imageEnv(), ...DAEMON_ENV })}`,
  );
  const results: BulkModeResult[] = [];
  for (const mode of MODES) {
    console.log(`— ${mode}…`);
    results.push(await runMode(mode));
  }
  const table = results.flatMap(bulkRows);
  console.log('');
  console.table(table);
  const report = {
    at: startedAt.toISOString(),
    machine: { ...machine, loadAverageAfter: loadavg().map((x) => round(x, 2)) },
    settings: { members: MEMBERS, modifies: MODIFIES, batch: BATCH, slowQueryMs: SLOW_MS },
    table,
    results,
  };
  console.log(JSON.stringify(report.results, null, 2));
  const dir = new URL('./results/', import.meta.url);
  await mkdir(dir, { recursive: true });
  const file = new URL(`./bulk-load-${report.at.replace(/[:.]/g, '-')}.json`, dir);
  await writeFile(file, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`written ${file.pathname}`);
  process.exit(0);
}
