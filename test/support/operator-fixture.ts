import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { SYNC_QUEUE } from '../../src/sync/group-queue.ts';
import { createTestDatabase, testPool, testRedis } from './stores.ts';

/** Two groups in every state an operator command reports on, a deleted group held, a stale outbox. */
export const OPERATOR_SEED = `
INSERT INTO groups (id, name, type, fields, afilnet_id) VALUES
  ('g1', 'Customers', 'mobile', '{mobile,name}', '101'), ('g2', 'News', 'email', '{email}', NULL);
INSERT INTO contacts (id, mobile, email)
  SELECT 'c' || i, '3460000' || lpad(i::text, 4, '0'), 'c' || i || '@example.com' FROM generate_series(1, 20) i;
INSERT INTO group_members SELECT 'g1', 'c' || i FROM generate_series(1, 20) i;
INSERT INTO group_members SELECT 'g2', 'c' || i FROM generate_series(1, 5) i;
INSERT INTO sync_member_state (group_id, contact_id, synced_fields, status)
  SELECT 'g1', 'c' || i, '{}'::jsonb, 'synced' FROM generate_series(1, 15) i;
INSERT INTO sync_member_state (group_id, contact_id, status, last_method, last_error, last_call_at) VALUES
  ('g1', 'c16', 'failed', 'modifycontact', 'INVALID_FIELD', now()),
  ('g2', 'c1', 'failed', NULL, 'DUPLICATE_MAIN_FIELD: contact c2 of this group already has it', NULL);
INSERT INTO sync_dirty (group_id, contact_id, seq, marked_at)
  SELECT 'g1', 'c' || i, nextval('sync_dirty_seq'), now() - interval '2 minutes' FROM generate_series(17, 18) i;
INSERT INTO sync_group_state (group_id, remote_id, status, last_error, last_sync_at, dirty) VALUES
  ('g1', '101', 'ok', NULL, now(), false),
  ('g2', NULL, 'failed', 'creategroup answered without the new group id', NULL, false),
  ('gone', '103', 'held', 'deletegroup held by the mass-deletion guard (500 contacts)', now(), false);
INSERT INTO sync_holds (group_id, kind, count, reason) VALUES
  ('g1', 'deletes', 30, '30 of 100 synced contacts would be deleted'),
  ('gone', 'deletegroup', 500, 'the group holds 500 synced contacts');
INSERT INTO sync_outbox (kind, contact_id, created_at) VALUES ('contact', 'c1', now() - interval '90 seconds');`;

export interface OperatorFixture {
  db: pg.Pool;
  redis: Redis;
  /** The group-sync queue, to see what the commands enqueued. */
  queue: Queue;
  /** What the CLI needs: DATABASE_URL, REDIS_URL, QUEUE_PREFIX. */
  env: Record<string, string>;
  prefix: string;
  dir: string;
  /** Group ids of the jobs waiting in the queue, sorted. */
  queuedGroups(): Promise<string[]>;
}

/**
 * A seeded database, a Redis prefix with a learned rate of 2.5 calls/s, and a scratch directory,
 * for one test file (registers its own beforeAll/afterAll).
 */
export function useOperatorFixture(): OperatorFixture {
  let drop: () => Promise<void> = () => Promise.resolve();
  const f = {
    async queuedGroups() {
      const jobs = await f.queue.getJobs(['waiting', 'delayed', 'prioritized']);
      return jobs.map((j) => (j.data as { groupId: string }).groupId).sort();
    },
  } as OperatorFixture;
  beforeAll(async () => {
    const database = await createTestDatabase();
    drop = database.drop;
    f.db = testPool(database.url);
    await f.db.query(OPERATOR_SEED);
    const r = testRedis();
    f.prefix = r.prefix;
    f.env = { DATABASE_URL: database.url, REDIS_URL: r.url, QUEUE_PREFIX: r.prefix };
    f.redis = new Redis(r.url);
    await f.redis.hset(`${f.prefix}:rate-budget`, 'rate', '2.5');
    f.queue = new Queue(SYNC_QUEUE, { connection: f.redis, prefix: f.prefix });
    f.dir = await mkdtemp(join(tmpdir(), 'afilnet-cli-'));
  });
  afterAll(async () => {
    await f.queue?.obliterate({ force: true });
    await f.queue?.close();
    await f.redis?.del(`${f.prefix}:rate-budget`);
    f.redis?.disconnect();
    await f.db?.end();
    await drop();
    if (f.dir) await rm(f.dir, { recursive: true, force: true });
  });
  return f;
}
