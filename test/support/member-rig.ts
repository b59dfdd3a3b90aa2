import { Redis } from 'ioredis';
import { AfilnetClient } from '../../src/afilnet/index.ts';
import { ApiCaller } from '../../src/gateway/api-caller.ts';
import { RateBudget } from '../../src/gateway/rate-budget.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { DeleteGuard } from '../../src/sync/delete-guard.ts';
import type { GroupSyncDeps } from '../../src/sync/sync-group.ts';
import type { Harness } from './harness.ts';

/**
 * The member-sync executor's dependencies built by hand against a harness's database, Redis and
 * emulator, to drive `syncGroup`/`syncGroupMembers` step by step without a daemon.
 */
export function memberSyncDeps(h: Harness): { deps: GroupSyncDeps; close(): Promise<void> } {
  const redis = new Redis(h.env.REDIS_URL as string, { maxRetriesPerRequest: null });
  const logger = createLogger({ level: 'silent' });
  const budget = new RateBudget(redis, `${h.env.QUEUE_PREFIX}rig`, 1_000);
  const client = new AfilnetClient({
    baseUrl: h.emulator.url,
    user: 'demo',
    password: 'demo',
    auth: 'post',
  });
  const deps: GroupSyncDeps = {
    pool: h.db,
    client,
    caller: new ApiCaller(budget, null, logger),
    guard: new DeleteGuard(h.db, { percent: 100, groupMin: 1_000, floor: 1_000, windowMs: 60_000 }),
    logger,
    batchSize: 500,
    concurrency: 4,
    limits: { maxFieldLength: 255 },
    bulkYieldMs: 60_000,
    chunkSize: 2_000,
    sliceMs: 60_000,
  };
  return {
    deps,
    async close() {
      await client.close();
      redis.disconnect();
    },
  };
}
