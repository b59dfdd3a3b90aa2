import { callsBetween, emulatorCalls, withRig } from './bench-daemon.ts';
import { round, sleep, type BenchStores } from './bench-env.ts';
import { addBounds, lowerBound, snapshotMembers, type LowerBound } from './lower-bound.ts';
import { seededRandom } from './seeded-random.ts';

export interface SegmentEfficiencyResult {
  contacts: number;
  segmentGroups: number;
  rounds: number;
  /** Contacts that left a segment (each entered another), over all rounds. */
  moved: number;
  daemonCalls: Record<string, number>;
  lowerBound: LowerBound;
  ratio: number;
}

const BATCH = 500;
const GROUPS = 5;

/**
 * Calls ÷ lower bound while contacts move in and out of segments: five segment groups split the
 * contacts by score band; each round re-scores some contacts (most change band: one leaves a
 * group, one enters another) and renames others (a modify where they are), in one transaction.
 * The bound is worked out per round from the memberships before and after (bench/lower-bound.ts).
 */
export async function measureSegmentEfficiency(
  stores: BenchStores,
  opts: { contacts: number; rounds: number; perRound: number },
): Promise<SegmentEfficiencyResult> {
  // The guard would hold a round's departures (a fifth of a band): it is measured elsewhere.
  const env = {
    AFILNET_BATCH_SIZE: String(BATCH),
    AFILNET_RATE_LIMIT: '1000',
    DELETE_GUARD_PERCENT: '100',
    DELETE_GUARD_DAY_PERCENT: '100',
  };
  return withRig(stores, { scenario: 'segments-efficiency', env }, async (rig) => {
    const random = seededRandom(15);
    await rig.db.query(
      `INSERT INTO contacts (id, mobile, attributes)
       SELECT 'c' || i, '346' || lpad(i::text, 8, '0'),
              jsonb_build_object('name', 'Name ' || i, 'score', (i * 37 % 100)::text)
       FROM generate_series(1, $1::int) i`,
      [opts.contacts],
    );
    await rig.startDaemon();
    const values = Array.from(
      { length: GROUPS },
      (_, k) =>
        `('band${k}', 'Band ${k}', 'mobile', '{mobile,name}', '(c.attributes->>''score'')::int / 20 = ${k}')`,
    );
    await rig.db.query(
      `INSERT INTO groups (id, name, type, fields, segment) VALUES ${values.join(', ')}`,
    );
    await settle(rig.db);
    await rig.drained(120_000);
    let bound: LowerBound | null = null;
    let moved = 0;
    const start = await emulatorCalls(rig.emulator.url);
    for (let r = 0; r < opts.rounds; r++) {
      const before = await snapshotMembers(rig.db);
      const picked = new Set<number>();
      while (picked.size < opts.perRound) picked.add(1 + random.int(opts.contacts));
      const ids = [...picked];
      const rescored = ids.slice(0, Math.floor(ids.length * 0.7));
      const renamed = ids.slice(rescored.length);
      await rig.db.query(
        `UPDATE contacts c SET attributes = c.attributes || jsonb_build_object('score', x.score::text)
         FROM unnest($1::text[], $2::int[]) AS x(id, score) WHERE c.id = x.id`,
        [rescored.map((i) => `c${i}`), rescored.map(() => random.int(100))],
      );
      await rig.db.query(
        `UPDATE contacts SET attributes = attributes || jsonb_build_object('name', 'Renamed ' || $2::int || ' ' || id)
         WHERE id = ANY($1::text[])`,
        [renamed.map((i) => `c${i}`), r],
      );
      await rig.drained(120_000);
      const after = await snapshotMembers(rig.db);
      const b = lowerBound(before, after, BATCH);
      bound = bound ? addBounds(bound, b) : b;
      moved += b.deletes;
    }
    const calls = callsBetween(start, await emulatorCalls(rig.emulator.url)).byMethod;
    const total = Object.values(calls).reduce((a, b) => a + b, 0);
    const lb = bound ?? lowerBound(new Map(), new Map(), BATCH);
    return {
      contacts: opts.contacts,
      segmentGroups: GROUPS,
      rounds: opts.rounds,
      moved,
      daemonCalls: calls,
      lowerBound: lb,
      ratio: round(total / Math.max(1, lb.total), 2),
    };
  });
}

/** Waits until every segment group has been evaluated whole once. */
async function settle(db: import('pg').Pool): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const res = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM groups g LEFT JOIN sync_segment_state s ON s.group_id = g.id
       WHERE g.segment IS NOT NULL AND s.expression IS DISTINCT FROM g.segment`,
    );
    if (res.rows[0]?.n === 0) return;
    await sleep(100);
  }
  throw new Error('segments were not evaluated within 60 s');
}
