import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AfilnetClient } from '../src/afilnet/index.ts';
import { loadDaemonConfig } from '../src/config/config.ts';
import { startEmulator, type RunningEmulator } from '../src/emulator/index.ts';
import { ApiCaller } from '../src/gateway/api-caller.ts';
import { RateBudget } from '../src/gateway/rate-budget.ts';
import { createLogger } from '../src/observability/logger.ts';
import { emulatorCalls } from './support/harness.ts';
import { testRedis } from './support/stores.ts';

describe('a Retry-After longer than AFILNET_MAX_RETRY_AFTER_MS (F14)', () => {
  let emulator: RunningEmulator;
  let client: AfilnetClient;
  let redis: Redis;
  let idgroup: string;
  const prefixes: string[] = [];

  beforeAll(async () => {
    emulator = await startEmulator();
    client = new AfilnetClient({
      baseUrl: emulator.url,
      user: 'demo',
      password: 'demo',
      auth: 'post',
    });
    idgroup = (await client.creategroup({ name: 'g', type: 'mobile', fields: ['mobile'] }))
      .idgroup as string;
    redis = new Redis(testRedis().url);
  });
  afterAll(async () => {
    for (const p of prefixes) await redis.del(...(await redis.keys(`${p}:*`)), 'none');
    redis.disconnect();
    await client.close();
    await emulator.close();
  });

  /** Sets emulator faults; null turns one off. */
  const faults = async (patch: Record<string, number | null>) => {
    const res = await fetch(`${emulator.url}/__emulator/faults`, {
      method: 'POST',
      body: JSON.stringify(patch),
      headers: { 'content-type': 'application/json' },
    });
    expect(res.ok).toBe(true);
  };

  const budgetOf = (ceiling: number) => {
    const { prefix } = testRedis();
    prefixes.push(prefix);
    return new RateBudget(redis, prefix, ceiling);
  };

  it('is read from the environment, 5 minutes by default, at most 2^31 - 1 ms', () => {
    const base = {
      AFILNET_USER: 'u',
      AFILNET_PASSWORD: 'p',
      DATABASE_URL: 'postgres://x@y/z',
      REDIS_URL: 'redis://r',
    };
    expect(loadDaemonConfig(base).AFILNET_MAX_RETRY_AFTER_MS).toBe(300_000);
    expect(
      loadDaemonConfig({ ...base, AFILNET_MAX_RETRY_AFTER_MS: '250' }).AFILNET_MAX_RETRY_AFTER_MS,
    ).toBe(250);
    expect(() =>
      loadDaemonConfig({ ...base, AFILNET_MAX_RETRY_AFTER_MS: String(2 ** 31) }),
    ).toThrow(/AFILNET_MAX_RETRY_AFTER_MS/);
  });

  it('waits the cap, not the provider’s day, and the call then goes through', async () => {
    const budget = budgetOf(100);
    const caller = new ApiCaller(budget, null, createLogger({ level: 'silent' }), 8, {
      maxRetryAfterMs: 300,
    });
    await faults({ rateLimitPerSecond: 1, retryAfterSeconds: 86_400 });
    try {
      const before = await emulatorCalls(emulator.url);
      await caller.call('getgroupcolumns', 'live', () => client.getgroupcolumns(idgroup));
      const started = Date.now();
      // Refused (Retry-After: 86400) until the emulator's rolling second has passed.
      const second = caller.call('getgroupcolumns', 'live', () => client.getgroupcolumns(idgroup));
      await new Promise((r) => setTimeout(r, 100));
      const blocked = (await budget.state()).blockedForMs;
      await second;
      const took = Date.now() - started;
      const after = await emulatorCalls(emulator.url);
      const refused = (after.rejected.rate_limited ?? 0) - (before.rejected.rate_limited ?? 0);
      console.info(`retry-after: blocked ${blocked} ms, ${refused} refusals, done in ${took} ms`);
      expect(refused).toBeGreaterThanOrEqual(1);
      expect(blocked).toBeGreaterThan(0);
      expect(blocked).toBeLessThanOrEqual(300);
      expect(took).toBeLessThan(10_000);
    } finally {
      await faults({ rateLimitPerSecond: null, retryAfterSeconds: null });
    }
  }, 30_000);

  it('blocks for a Retry-After past 2^31 ms without a timer overflow turning it into a spin', async () => {
    const budget = budgetOf(100);
    const ticket = await budget.acquire('live');
    // 3,000,000 s: setTimeout would clamp it to 1 ms and the budget would retry at once.
    await budget.feedback(ticket, { rateLimitedForMs: 3e9 });
    const abort = new AbortController();
    let settled = false;
    const waiting = budget
      .acquire('live', { signal: abort.signal })
      .finally(() => (settled = true));
    await new Promise((r) => setTimeout(r, 1_500));
    expect(settled).toBe(false);
    expect((await budget.state()).blockedForMs).toBeGreaterThan(2 ** 30);
    abort.abort(new Error('test over'));
    await expect(waiting).rejects.toThrow('test over');
  });
});
