import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccountPausedError } from '../src/gateway/api-caller.ts';
import { RateBudget } from '../src/gateway/rate-budget.ts';
import { testRedis } from './support/stores.ts';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Whether `p` is still pending after `ms`. */
async function pendingAfter(p: Promise<unknown>, ms: number): Promise<boolean> {
  let settled = false;
  p.then(
    () => (settled = true),
    () => (settled = true),
  );
  await sleep(ms);
  return !settled;
}

describe('an account-wide pause, seen by every replica', () => {
  let redis: Redis;
  const prefixes: string[] = [];
  beforeAll(() => {
    redis = new Redis(testRedis().url);
  });
  afterAll(async () => {
    for (const p of prefixes) await redis.del(...(await redis.keys(`${p}:*`)), 'none');
    redis.disconnect();
  });

  /** Two RateBudget instances on one prefix: two daemons sharing the account. */
  function replicas(opts: { maxPauseWaitMs?: number } = {}): [RateBudget, RateBudget] {
    const { prefix } = testRedis();
    prefixes.push(prefix);
    return [
      new RateBudget(redis, prefix, 50, undefined, opts),
      new RateBudget(redis, prefix, 50, undefined, opts),
    ];
  }

  it('shows the rate, and no pause, before anything happened', async () => {
    const [a] = replicas();
    expect(await a.state()).toEqual({
      rate: 50,
      ceiling: 50,
      learned: 50,
      blockedForMs: 0,
      pausedUntil: null,
      pauseReason: null,
    });
  });

  it('holds the calls of the other replica until resumed there', async () => {
    const [a, b] = replicas();
    const until = Date.now() + 60_000;
    await a.pauseAccount(until, 'NO_CREDITS');
    expect(await b.pausedUntil()).toBe(until);
    expect((await b.state()).pauseReason).toBe('NO_CREDITS');
    const waiting = b.acquire('live');
    expect(await pendingAfter(waiting, 500)).toBe(true);
    const resumed = Date.now();
    await a.resume();
    await waiting;
    // Waiters look again at least once a second.
    expect(Date.now() - resumed).toBeLessThan(2_500);
    expect(await b.pausedUntil()).toBeNull();
  });

  it('ends by itself at the time given', async () => {
    const [a, b] = replicas();
    await a.pauseAccount(Date.now() + 700, 'INCORRECT_USER_PASSWORD');
    const started = Date.now();
    await b.acquire('bulk');
    const waited = Date.now() - started;
    expect(waited).toBeGreaterThanOrEqual(500);
    expect(waited).toBeLessThan(3_000);
  });

  it('gives up after maxPauseWaitMs with an AccountPausedError naming the reason', async () => {
    const [a, b] = replicas({ maxPauseWaitMs: 300 });
    await a.pauseAccount(Infinity, 'INCORRECT_USER_PASSWORD');
    expect(await b.pausedUntil()).toBe(Infinity);
    const failure = await b.acquire('live').catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(AccountPausedError);
    expect(failure).toMatchObject({ reason: 'INCORRECT_USER_PASSWORD', untilMs: Infinity });
    await a.resume();
    await b.acquire('live');
  });

  it('stops waiting when the caller aborts (shutdown)', async () => {
    const [a, b] = replicas();
    await a.pauseAccount(Date.now() + 60_000, 'NO_CREDITS');
    const abort = new AbortController();
    const waiting = b.acquire('live', { signal: abort.signal });
    await sleep(100);
    abort.abort(new Error('shutting down'));
    await expect(waiting).rejects.toThrow('shutting down');
    await a.resume();
  });
});
