import { callsBetween, emulatorCalls, insertGroups, withRig } from './bench-daemon.ts';
import { nowMs, round, type BenchStores } from './bench-env.ts';

export interface ThroughputResult {
  changes: number;
  adds: number;
  updates: number;
  /** How long the writer took to commit every change. */
  commitSeconds: number;
  /** From the first commit to nothing left to sync. */
  drainedSeconds: number;
  changesPerSecond: number;
  calls: Record<string, number>;
}

const GROUPS = 4;
const PER_TRANSACTION = 250;

/**
 * Changes per second from commit to acknowledged sync, nothing throttling the API: half the
 * changes are new members (contacts added to groups), half are updates of a synced field of
 * members synced beforehand, written as fast as one writer can in transactions of 250.
 */
export async function measureThroughput(
  stores: BenchStores,
  opts: { changes: number },
): Promise<ThroughputResult> {
  const updates = Math.floor(opts.changes / 2);
  const adds = opts.changes - updates;
  const env = { AFILNET_RATE_LIMIT: '100000' };
  return withRig(stores, { scenario: 'throughput', env, emulatorProcess: true }, async (rig) => {
    const groups = Array.from({ length: GROUPS }, (_, k) => ({
      id: `g${k}`,
      type: 'mobile' as const,
      fields: ['mobile', 'name'],
    }));
    await insertGroups(rig.db, groups);
    const insert = (from: number, to: number) =>
      `INSERT INTO contacts (id, mobile, attributes)
         SELECT 'c' || i, '346' || lpad(i::text, 8, '0'), jsonb_build_object('name', 'Name ' || i)
         FROM generate_series(${from}, ${to}) i;
       INSERT INTO group_members (group_id, contact_id)
         SELECT 'g' || (i % ${GROUPS}), 'c' || i FROM generate_series(${from}, ${to}) i;`;
    // Members to update, synced before the clock starts.
    await rig.db.query(`BEGIN; ${insert(1, updates)} COMMIT;`);
    await rig.startDaemon();
    await rig.drained(120_000);

    // Adds and updates interleaved, one transaction of each kind in turn.
    const txs: string[] = [];
    for (let i = 0; i < Math.max(adds, updates); i += PER_TRANSACTION) {
      if (i < adds) {
        const from = updates + 1 + i;
        txs.push(
          `BEGIN; ${insert(from, Math.min(from + PER_TRANSACTION - 1, updates + adds))} COMMIT;`,
        );
      }
      if (i < updates) {
        txs.push(`UPDATE contacts SET attributes = jsonb_build_object('name', 'Renamed ' || id)
                  WHERE id IN (SELECT 'c' || i FROM generate_series(${i + 1}, ${Math.min(i + PER_TRANSACTION, updates)}) i)`);
      }
    }
    const before = await emulatorCalls(rig.emulator.url);
    const writer = await rig.db.connect();
    const started = nowMs();
    try {
      for (const sql of txs) await writer.query(sql);
    } finally {
      writer.release();
    }
    const committed = nowMs();
    const drained = await rig.drained(10 * 60_000);
    const calls = callsBetween(before, await emulatorCalls(rig.emulator.url));
    const seconds = (drained - started) / 1000;
    return {
      changes: adds + updates,
      adds,
      updates,
      commitSeconds: round((committed - started) / 1000, 2),
      drainedSeconds: round(seconds, 2),
      changesPerSecond: Math.round((adds + updates) / seconds),
      calls: calls.byMethod,
    };
  });
}
