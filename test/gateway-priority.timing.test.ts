import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AfilnetClient } from '../src/afilnet/index.ts';
import { startEmulator, type RunningEmulator } from '../src/emulator/index.ts';
import { ApiCaller } from '../src/gateway/api-caller.ts';
import { RateBudget, type Priority } from '../src/gateway/rate-budget.ts';
import { createLogger } from '../src/observability/logger.ts';
import { testRedis } from './support/stores.ts';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

describe('live and bulk calls sharing one budget (F12)', () => {
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
      connections: 8,
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

  /**
   * A budget of its own and `replicas` callers on it (each with its own RateBudget instance, as
   * separate daemons have), and a call that records when it was really sent.
   */
  function rig(ratePerSecond: number, replicas = 1) {
    const { prefix } = testRedis();
    prefixes.push(prefix);
    const callers = Array.from(
      { length: replicas },
      () =>
        new ApiCaller(
          new RateBudget(redis, prefix, ratePerSecond),
          null,
          createLogger({ level: 'silent' }),
          8,
        ),
    );
    const sent: { priority: Priority; at: number }[] = [];
    const call = (priority: Priority, replica = 0) =>
      (callers[replica] as ApiCaller).call('getgroupcolumns', priority, () => {
        sent.push({ priority, at: performance.now() });
        return client.getgroupcolumns(idgroup);
      });
    return { call, sent };
  }

  it('sends a live call within one budget interval while many bulk calls are parked', async () => {
    const rate = 10; // one call per 100 ms
    const { call, sent } = rig(rate);
    const bulk = Array.from({ length: 60 }, () => call('bulk'));
    await sleep(500); // the bulk calls are parked on the budget (and, before the fix, on slots)
    const asked = performance.now();
    await call('live');
    const waited = (sent.find((s) => s.priority === 'live')?.at ?? Infinity) - asked;
    console.info(`priority: live call sent ${waited.toFixed(0)} ms after asking, 60 bulk parked`);
    // One interval (100 ms) plus a generous margin for a loaded machine; before the fix the live
    // call queued behind every parked bulk call for a slot: about 55 intervals.
    expect(waited).toBeLessThan(1000 / rate + 300);
    expect(sent.filter((s) => s.priority === 'bulk').length).toBeGreaterThan(0);
    await Promise.all(bulk);
  }, 30_000);

  it('gives bulk calls what steady live traffic at 80 % of the rate leaves', async () => {
    const rate = 20; // 50 ms apart; live asks every 62.5 ms
    const seconds = 10;
    // Two replicas: one with bulk work, one with live traffic, so every live call reaches the
    // budget at once (in one process, parked bulk calls used to hide live ones from it).
    const { call, sent } = rig(rate, 2);
    let stop = false;
    const bulkLanes = Array.from({ length: 16 }, async () => {
      while (!stop) await call('bulk', 0);
    });
    const live: Promise<unknown>[] = [];
    const liveLatency: number[] = [];
    const started = performance.now();
    for (let k = 0; k < 0.8 * rate * seconds; k++) {
      // Open loop: each live call is asked for on schedule, whether or not the last one went.
      const due = started + (k * 1000) / (0.8 * rate);
      await sleep(Math.max(0, due - performance.now()));
      const asked = performance.now();
      live.push(call('live', 1).then(() => liveLatency.push(performance.now() - asked)));
    }
    await Promise.all(live);
    const ended = performance.now();
    stop = true;
    await Promise.all(bulkLanes);
    // The first second is left out: the budget starts with every slot free.
    const steady = sent.filter((s) => s.at > started + 1000 && s.at <= ended);
    const bulk = steady.filter((s) => s.priority === 'bulk').length;
    const liveSent = steady.length - bulk;
    const window = (ended - started - 1000) / 1000;
    liveLatency.sort((a, b) => a - b);
    const p95 = liveLatency[Math.floor(0.95 * liveLatency.length)] ?? Infinity;
    console.info(
      `priority: in ${window.toFixed(1)} s at ${rate}/s, live ${liveSent} and bulk ${bulk} calls ` +
        `(bulk ${((100 * bulk) / (rate * window)).toFixed(0)} % of the rate; expected ≈ 20 %), ` +
        `live wait p95 ${p95.toFixed(0)} ms`,
    );
    // About 0.2 × 20/s × 9 s = 36 expected; a third of that still proves bulk is not starved
    // (before the fix it needed three quiet intervals and got almost none).
    expect(bulk).toBeGreaterThanOrEqual(12);
    // The budget still holds the rate: no more than R per second plus the catch-up slack.
    expect(steady.length).toBeLessThanOrEqual(rate * window * 1.05 + 5);
    // Live calls keep their lead: a typical one waits about an interval, not a queue of bulk.
    expect(p95).toBeLessThan(2 * (1000 / rate) + 300);
  }, 60_000);
});
