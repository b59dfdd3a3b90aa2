import type { Redis } from 'ioredis';

/**
 * One account-wide call budget in Redis, shared by every replica (GCRA: each call reserves the
 * next slot at `1/rate` spacing, so no second ever holds more than `rate` calls). The rate adapts:
 * a 429 blocks everyone until Retry-After expires and lowers the rate a little below where the
 * provider pushed back; successes probe upward, quickly below that learned level and slowly above
 * it. Bulk work only takes a slot when no live call has asked for one recently.
 */
const ACQUIRE = `
local key = KEYS[1]
local ceiling = tonumber(ARGV[1])
local live = ARGV[2] == '1'
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local h = redis.call('HMGET', key, 'rate', 'tat', 'blocked', 'live_seen')
local rate = tonumber(h[1]) or ceiling
if rate > ceiling then rate = ceiling end
-- A 3 % margin on the spacing absorbs the jitter between a slot and the request's arrival.
local interval = 1030 / rate
local tat = tonumber(h[2]) or 0
local blocked = tonumber(h[3]) or 0
local liveSeen = tonumber(h[4]) or 0
if tat < now then tat = now end
if tat < blocked then tat = blocked end
if live then
  redis.call('HSET', key, 'live_seen', now, 'tat', tat + interval)
  redis.call('PEXPIRE', key, 86400000)
  return {tostring(tat - now), tostring(rate)}
end
if tat > now or now - liveSeen < 3 * interval then
  return {tostring(-math.max(tat - now, interval)), tostring(rate)}
end
redis.call('HSET', key, 'tat', tat + interval)
redis.call('PEXPIRE', key, 86400000)
return {'0', tostring(rate)}
`;

const FEEDBACK = `
local key = KEYS[1]
local okKey = KEYS[2]
local ceiling = tonumber(ARGV[1])
local retryAfter = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local h = redis.call('HMGET', key, 'rate', 'learned', 'blocked', 'limited_at')
local rate = tonumber(h[1]) or ceiling
if rate > ceiling then rate = ceiling end
local learned = tonumber(h[2]) or ceiling
local floor = math.max(0.2, ceiling / 100)
redis.call('ZREMRANGEBYSCORE', okKey, '-inf', now - 1000)
if retryAfter >= 0 then
  -- What the provider accepted in the last second is the best estimate of its limit.
  local accepted = redis.call('ZCARD', okKey)
  local estimate = rate
  if accepted > 0 and accepted < rate then estimate = accepted end
  learned = math.max(floor, estimate * 0.99)
  rate = learned
  redis.call('HSET', key, 'limited_at', now)
  local until_ = now + retryAfter
  if until_ > (tonumber(h[3]) or 0) then redis.call('HSET', key, 'blocked', until_) end
else
  redis.call('ZADD', okKey, now, now .. ':' .. redis.call('HINCRBY', key, 'seq', 1))
  redis.call('PEXPIRE', okKey, 5000)
  -- Back to the learned level within seconds; above it, probe only after a quiet 30 s, slowly.
  local step = 0
  if rate < learned then
    step = learned * 0.2
  elseif now - (tonumber(h[4]) or 0) > 30000 then
    step = math.max(0.05, learned * 0.01)
  end
  rate = math.min(ceiling, rate + step / rate)
end
redis.call('HSET', key, 'rate', rate, 'learned', learned)
redis.call('PEXPIRE', key, 86400000)
return tostring(rate)
`;

const BLOCKED_FOR = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local blocked = tonumber(redis.call('HGET', KEYS[1], 'blocked')) or 0
return tostring(math.max(0, blocked - now))
`;

export type Priority = 'live' | 'bulk';

export interface RateBudgetStats {
  waitedMs: number;
}

/** Account-wide, adaptive, prioritised call budget. */
export class RateBudget {
  private readonly key: string;
  /** The rate last seen in Redis, for metrics. */
  currentRate: number;

  constructor(
    private readonly redis: Redis,
    prefix: string,
    private readonly ceiling: number,
    private readonly onWait?: (ms: number, priority: Priority) => void,
  ) {
    this.key = `${prefix}:rate-budget`;
    this.currentRate = ceiling;
  }

  /** Resolves when this caller may make one call. */
  async acquire(priority: Priority = 'live'): Promise<void> {
    const started = Date.now();
    for (let late = 0; ;) {
      const asked = performance.now();
      const [waitText, rateText] = (await this.redis.eval(
        ACQUIRE,
        1,
        this.key,
        String(this.ceiling),
        priority === 'live' ? '1' : '0',
      )) as [string, string];
      this.currentRate = Number(rateText);
      const wait = Number(waitText);
      if (wait < 0) {
        await sleep(-wait);
        continue;
      }
      const slotAt = asked + wait;
      if (wait > 0) await sleep(wait);
      // A 429 seen by another replica while we slept moves the block forward: honour it.
      const blockedFor = Number(await this.redis.eval(BLOCKED_FOR, 1, this.key));
      if (blockedFor > 0) {
        await sleep(blockedFor);
        continue;
      }
      // A slot used long after its time would bunch with the next ones (a stalled event loop):
      // take a fresh one instead, a few times at most so a busy process is slowed, not starved.
      const interval = 1000 / this.currentRate;
      if (performance.now() - slotAt > Math.max(20, interval / 2) && late++ < 3) continue;
      break;
    }
    const waited = Date.now() - started;
    if (waited > 0) this.onWait?.(waited, priority);
  }

  /** Feeds back one call's outcome: a 429 (with its Retry-After) or a success. */
  async feedback(outcome: { rateLimitedForMs: number } | 'ok'): Promise<void> {
    const retryAfter = outcome === 'ok' ? -1 : Math.max(0, outcome.rateLimitedForMs);
    this.currentRate = Number(
      await this.redis.eval(
        FEEDBACK,
        2,
        this.key,
        `${this.key}:accepted`,
        String(this.ceiling),
        String(retryAfter),
      ),
    );
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
