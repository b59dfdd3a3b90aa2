import { Redis } from 'ioredis';
import pg from 'pg';
import { OutboxRelay } from '../../src/capture/outbox-relay.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { GroupQueue } from '../../src/sync/group-queue.ts';

/** One call the relay made to hand groups to the queue. */
export interface EnqueueCall {
  at: number;
  groups: string[];
}

export interface RelayRig {
  relay: OutboxRelay;
  pool: pg.Pool;
  queue: GroupQueue;
  /** Every enqueue call, in order. */
  calls: EnqueueCall[];
  /** How often each group was handed to the queue. */
  enqueueCount(groupId: string): number;
  /** Groups that have a job in BullMQ (any state a fresh job can be in). */
  queuedGroups(): Promise<Set<string>>;
  /** Stops the relay, empties this rig's queue and closes every connection. */
  close(): Promise<void>;
}

export interface RelayRigOptions {
  databaseUrl: string;
  redis: { url: string; prefix: string };
  pollMs: number;
  batchSize: number;
  sweepAfterMs?: number;
  /** Runs inside each enqueue call, before the queue is written: lets a test slow the relay. */
  beforeEnqueue?: (groups: string[]) => Promise<void>;
}

/**
 * An OutboxRelay wired as the daemon wires it, to a real GroupQueue on its own Redis prefix, that
 * also records what it enqueued. Jobs are delayed a minute so they stay visible in the queue.
 */
export function createRelayRig(opts: RelayRigOptions): RelayRig {
  const pool = new pg.Pool({ connectionString: opts.databaseUrl, max: 4 });
  // A server restart kills idle connections; unhandled, that error would end the test process.
  pool.on('error', () => undefined);
  const redis = new Redis(opts.redis.url, { maxRetriesPerRequest: null });
  const queue = new GroupQueue(redis, opts.redis.prefix, 60_000, 1);
  const calls: EnqueueCall[] = [];
  const relay = new OutboxRelay({
    pool,
    databaseUrl: opts.databaseUrl,
    logger: createLogger({ level: 'silent' }),
    pollMs: opts.pollMs,
    batchSize: opts.batchSize,
    sweepAfterMs: opts.sweepAfterMs ?? 600_000,
    enqueueGroups: async (groups) => {
      await opts.beforeEnqueue?.(groups);
      await queue.enqueue(groups);
      calls.push({ at: Date.now(), groups });
    },
  });
  return {
    relay,
    pool,
    queue,
    calls,
    enqueueCount: (groupId) => calls.filter((c) => c.groups.includes(groupId)).length,
    async queuedGroups() {
      const jobs = await queue.queue.getJobs(['delayed', 'waiting', 'prioritized']);
      return new Set(jobs.map((j) => j.data.groupId));
    },
    async close() {
      await relay.stop();
      await queue.queue.obliterate({ force: true });
      await queue.close();
      redis.disconnect();
      await pool.end();
    },
  };
}

/** Polls `check` every 20 ms until it holds; throws after `timeoutMs`, naming `what`. */
export async function waitUntil(
  check: () => Promise<boolean> | boolean,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A connected client whose connection loss is reported to its queries, not thrown at the process. */
export async function connectWriter(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

/** Whether a relay's listener is connected and LISTENing on the outbox channel. */
export async function relayListening(db: pg.Pool | pg.Client): Promise<boolean> {
  const res = await db.query(
    `SELECT 1 FROM pg_stat_activity
     WHERE datname = current_database() AND query ILIKE 'LISTEN %' AND state = 'idle'`,
  );
  return (res.rowCount ?? 0) > 0;
}

/** A seeded pseudo-random source (mulberry32), so a failing interleaving can be replayed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The (group, contact) pairs in sync_dirty, as "group/contact" strings. */
export async function dirtyPairs(db: pg.Pool | pg.Client): Promise<Set<string>> {
  const res = await db.query<{ k: string }>(
    `SELECT group_id || '/' || contact_id AS k FROM sync_dirty`,
  );
  return new Set(res.rows.map((r) => r.k));
}
