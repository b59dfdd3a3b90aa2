import { AfilnetClient } from '../src/afilnet/index.ts';
import {
  callsBetween,
  createRemoteGroups,
  emulatorCalls,
  insertGroups,
  withRig,
} from './bench-daemon.ts';
import { round, type BenchStores } from './bench-env.ts';
import { crmWorkload, runTransactions, type CrmWorkload } from './crm-workload.ts';
import { addBounds, lowerBound, snapshotMembers, type LowerBound } from './lower-bound.ts';
import { NAIVE_CAPTURE_SQL, runNaiveSync } from './naive-sync.ts';
import { startRecordingProxy } from './recording-proxy.ts';
import { repeatedModifies } from './repeat-calls.ts';
import { countMismatches } from './verify-sync.ts';

const BATCH = 500; // AFILNET_BATCH_SIZE's default, which the daemon runs with here

export interface EfficiencyResult {
  mode: 'normal' | 'strict-docs';
  workload: Record<string, number>;
  daemonCalls: Record<string, number>;
  daemonTotal: number;
  /** The bound's parts; `lookups` = the daemon's getcontacts in strict-docs mode, else 0. */
  lowerBound: LowerBound & { lookups: number };
  naiveCalls: Record<string, number>;
  naiveTotal: number;
  callsPerLowerBound: number;
  /**
   * Strict-docs only: the same with the look-ups bounded too, at one getcontacts per group (one
   * read after the import gives every id); the bound above takes the look-ups as made.
   */
  callsPerLowerBoundOneLookupPerGroup: number | null;
  callsPerNaive: number;
  /** Members that differ between database and emulator after the daemon's run (must be 0). */
  mismatches: number;
  /** modifycontact calls beyond one per member, by the kind of change the member got. */
  repeatedModifies: Record<string, number>;
  daemonSeconds: number;
}

/** The daemon against the workload, live: seed import, drained, then the changes, drained. */
async function daemonRun(stores: BenchStores, w: CrmWorkload, strictDocs: boolean) {
  // The emulator is unthrottled here: the budget's ceiling only needs to stay out of the way.
  const env = { AFILNET_RATE_LIMIT: '2000' };
  return withRig(stores, { scenario: 'efficiency', strictDocs, env }, async (rig) => {
    const remoteIds = strictDocs ? await createRemoteGroups(rig.emulator.url, w.groups) : undefined;
    await insertGroups(rig.db, w.groups, remoteIds);
    // Only to tell which member a repeated modifycontact was for; counts come from the emulator.
    const proxy = await startRecordingProxy(rig.emulator.url);
    await rig.startDaemon({ AFILNET_BASE_URL: proxy.url });
    // Group creation (or linking) is setup: it is left out of the counts.
    await rig.drained(60_000);
    const started = performance.now();
    const c0 = await emulatorCalls(rig.emulator.url);
    const writer = await rig.db.connect();
    try {
      await runTransactions(writer, w.seed);
      await rig.drained(120_000);
      const afterSeed = await snapshotMembers(rig.db);
      await runTransactions(writer, w.changes);
      await rig.drained(120_000);
      const atEnd = await snapshotMembers(rig.db);
      const calls = callsBetween(c0, await emulatorCalls(rig.emulator.url));
      const bound = addBounds(
        lowerBound(new Map(), afterSeed, BATCH),
        lowerBound(afterSeed, atEnd, BATCH),
      );
      return {
        calls,
        bound,
        seconds: (performance.now() - started) / 1000,
        mismatches: await countMismatches(rig.db, rig.emulator.url),
        repeats: await repeatedModifies(rig.db, proxy.calls, w.kindOf),
      };
    } finally {
      writer.release();
      await rig.stopDaemon();
      await proxy.close();
    }
  });
}

/** The naive baseline against the same transactions, on its own database and emulator. */
async function naiveRun(stores: BenchStores, w: CrmWorkload, strictDocs: boolean) {
  return withRig(stores, { scenario: 'naive', strictDocs }, async (rig) => {
    await rig.db.query(NAIVE_CAPTURE_SQL);
    const remoteIds = await createRemoteGroups(rig.emulator.url, w.groups);
    await insertGroups(rig.db, w.groups, remoteIds);
    const writer = await rig.db.connect();
    try {
      await runTransactions(writer, [...w.seed, ...w.changes]);
    } finally {
      writer.release();
    }
    const client = new AfilnetClient({
      baseUrl: rig.emulator.url,
      user: 'demo',
      password: 'demo',
      auth: 'post',
    });
    const c0 = await emulatorCalls(rig.emulator.url);
    try {
      // Replayed after the fact: one call per event does not depend on when events arrive.
      await runNaiveSync({ db: rig.db, client, groups: w.groups, remoteIds });
    } finally {
      await client.close();
    }
    return callsBetween(c0, await emulatorCalls(rig.emulator.url));
  });
}

/** Calls made ÷ the lower bound, and ÷ a naive sync's calls, for one emulator mode. */
export async function measureCallEfficiency(
  stores: BenchStores,
  opts: { contacts: number; strictDocs: boolean },
): Promise<EfficiencyResult> {
  const w = crmWorkload(opts.contacts);
  const daemon = await daemonRun(stores, w, opts.strictDocs);
  const naive = await naiveRun(stores, w, opts.strictDocs);
  const lookups = opts.strictDocs ? (daemon.calls.byMethod.getcontacts ?? 0) : 0;
  const bound = daemon.bound.total + lookups;
  return {
    mode: opts.strictDocs ? 'strict-docs' : 'normal',
    workload: w.counts,
    daemonCalls: daemon.calls.byMethod,
    daemonTotal: daemon.calls.total,
    lowerBound: { ...daemon.bound, lookups, total: bound },
    naiveCalls: naive.byMethod,
    naiveTotal: naive.total,
    callsPerLowerBound: round(daemon.calls.total / bound, 3),
    callsPerLowerBoundOneLookupPerGroup: opts.strictDocs
      ? round(daemon.calls.total / (daemon.bound.total + Math.min(lookups, w.groups.length)), 3)
      : null,
    callsPerNaive: round(daemon.calls.total / naive.total, 3),
    mismatches: daemon.mismatches,
    repeatedModifies: daemon.repeats,
    daemonSeconds: round(daemon.seconds, 1),
  };
}
