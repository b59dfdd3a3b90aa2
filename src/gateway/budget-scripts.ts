/**
 * The rate budget's Redis scripts. Every decision that several replicas share is made inside one
 * script, on Redis's clock, so two replicas can never both take the last free call.
 *
 * State (hash KEYS[1]): `rate` (calls/s now), `learned` (the provider's limit as last measured),
 * `tat` (GCRA: when the next call is due), `blocked` (a 429's Retry-After ends), `limited_at`,
 * `live_wait` (a live caller is waiting until then: bulk stands back), `seq` (ticket ids).
 * KEYS[2] (zset) holds the tickets in flight by grant time; KEYS[3] (zset) the calls answered in
 * the last second by answer time; KEYS[4] (hash) the account pause: `until`, `reason`.
 */

/** Shared prologue: Redis time in ms and the window's expired entries dropped. */
const PROLOGUE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - 1000)
-- A ticket never answered (its replica died) stops counting after two minutes.
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - 120000)
`;

/**
 * ARGV: ceiling, priority ('live'|'bulk'), how many tickets are wanted, catch-up ms.
 * Returns {status, retryInMs, rate, now, ticket ids…} — status 'ok' (all wanted granted), 'wait'
 * (fewer granted; ask again after retryIn) or 'paused' (retryIn = until the pause ends, then
 * the reason instead of ids).
 *
 * Two limits apply. The GCRA spacing (1/rate apart) smooths calls; slots missed by less than the
 * catch-up time (a stalled event loop, a job ending) may still be used, so a stall costs no
 * throughput. The window admits a call only while fewer than `rate` calls are in flight or were
 * answered in the last second: a call arrives at the provider no later than its answer comes
 * back, so this holds the provider's rolling one-second count under `rate` whatever the jitter
 * between our slots and the provider's clock — the 3 % margin the spacing used to need is gone.
 */
export const ACQUIRE = `${PROLOGUE}
local ceiling = tonumber(ARGV[1])
local live = ARGV[2] == 'live'
local want = tonumber(ARGV[3])
local catchUp = tonumber(ARGV[4])
local pause = redis.call('HMGET', KEYS[4], 'until', 'reason')
local pausedUntil = tonumber(pause[1]) or 0
if pausedUntil > now then
  return {'paused', tostring(pausedUntil - now), '0', tostring(now), pause[2] or ''}
end
local h = redis.call('HMGET', KEYS[1], 'rate', 'tat', 'blocked', 'live_wait')
local rate = tonumber(h[1]) or ceiling
if rate > ceiling then rate = ceiling end
local interval = 1000 / rate
local allowance = math.max(1, math.floor(rate + 1e-9))
local tat = tonumber(h[2]) or 0
local blocked = tonumber(h[3]) or 0
local liveWait = tonumber(h[4]) or 0
if blocked > now then return {'wait', tostring(blocked - now), tostring(rate), tostring(now)} end
local out = {'ok', '0', tostring(rate), tostring(now)}
local retryAt = now
local granted = 0
while granted < want do
  if tat > now then retryAt = tat break end
  if not live and liveWait > now then retryAt = liveWait break end
  local used = redis.call('ZCARD', KEYS[2]) + redis.call('ZCARD', KEYS[3])
  if used >= allowance then
    local oldest = redis.call('ZRANGE', KEYS[3], 0, 0, 'WITHSCORES')
    if oldest[2] then retryAt = tonumber(oldest[2]) + 1000 else retryAt = now + interval end
    break
  end
  tat = math.max(tat, now - catchUp) + interval
  local id = tostring(redis.call('HINCRBY', KEYS[1], 'seq', 1))
  redis.call('ZADD', KEYS[2], now, id)
  out[#out + 1] = id
  granted = granted + 1
end
redis.call('HSET', KEYS[1], 'tat', tat)
if granted < want then
  out[1] = 'wait'
  out[2] = tostring(math.max(1, math.ceil(retryAt - now)))
  -- Live callers still waiting: bulk stands back until they had their turn.
  if live then redis.call('HSET', KEYS[1], 'live_wait', math.max(liveWait, retryAt + interval)) end
end
redis.call('PEXPIRE', KEYS[1], 86400000)
redis.call('PEXPIRE', KEYS[2], 130000)
return out
`;

/**
 * On a 429 the provider's limit is estimated as what it accepted in the last second: the answers
 * recorded then (calls still in flight may have been refused too, so they are not counted).
 * ARGV: ceiling, ticket id, its grant time (ms), retryAfter (-1: answered; -2: never sent; ≥ 0: a
 * 429 and its Retry-After, already capped), probe quiet time (ms), arrival bound (ms). Returns
 * the rate.
 *
 * An answered call stays in the window for a second from its answer, or from its grant plus the
 * arrival bound if that is earlier: a slow answer (a long body, a loaded machine) says little
 * about when the request arrived, and counting it until then would idle the budget.
 *
 * If we were already at our own allowance, the count cannot be trusted (someone else shares the
 * account, or the clocks differ): one less. Successes bring the rate back up to the learned level
 * within seconds; above it the budget probes only after a long quiet time, because each probe
 * that finds the limit costs a Retry-After.
 */
export const FEEDBACK = `${PROLOGUE}
local ceiling = tonumber(ARGV[1])
local id = ARGV[2]
local grantedAt = tonumber(ARGV[3])
local retryAfter = tonumber(ARGV[4])
local quiet = tonumber(ARGV[5])
local arrivalBound = tonumber(ARGV[6])
redis.call('ZREM', KEYS[2], id)
local h = redis.call('HMGET', KEYS[1], 'rate', 'learned', 'blocked', 'limited_at')
if retryAfter == -2 then return tostring(math.min(tonumber(h[1]) or ceiling, ceiling)) end
local rate = tonumber(h[1]) or ceiling
if rate > ceiling then rate = ceiling end
local learned = tonumber(h[2]) or ceiling
local floor = math.max(0.2, ceiling / 100)
local limitedAt = tonumber(h[4]) or 0
if retryAfter >= 0 then
  local accepted = redis.call('ZCARD', KEYS[3])
  -- Calls sent before the last 429 was learnt from tell nothing new: learn once per burst.
  if grantedAt > limitedAt then
    local allowance = math.max(1, math.floor(rate + 1e-9))
    local cap = math.min(rate, allowance - 1)
    if accepted < allowance then cap = rate end
    learned = math.max(floor, math.min(accepted, cap))
    rate = learned
    redis.call('HSET', KEYS[1], 'limited_at', now, 'burst_cap', cap, 'refused_grant', grantedAt)
  end
  local until_ = now + retryAfter
  if until_ > (tonumber(h[3]) or 0) then redis.call('HSET', KEYS[1], 'blocked', until_) end
else
  redis.call('ZADD', KEYS[3], math.min(now, grantedAt + arrivalBound), id)
  local refused = tonumber(redis.call('HGET', KEYS[1], 'refused_grant')) or 0
  if grantedAt <= refused and grantedAt > refused - 1000 and now - limitedAt < 5000 then
    -- Accepted before the refusal but answered after it was learnt from: count it now (the
    -- estimate above only ever undercounts; a loaded machine answers late).
    local cap = tonumber(redis.call('HGET', KEYS[1], 'burst_cap')) or learned
    if learned + 1 <= cap then learned = learned + 1 rate = rate + 1 end
  end
  redis.call('PEXPIRE', KEYS[3], 5000)
  local step = 0
  if rate < learned then
    step = learned * 0.2
  elseif now - limitedAt > quiet then
    step = math.max(0.05, learned * 0.01)
  end
  rate = math.min(ceiling, rate + step / rate)
end
redis.call('HSET', KEYS[1], 'rate', rate, 'learned', learned)
redis.call('PEXPIRE', KEYS[1], 86400000)
return tostring(rate)
`;

/** Returns {rate, learned, blockedForMs, pausedUntil (0: none), reason}. ARGV: ceiling. */
export const STATE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ceiling = tonumber(ARGV[1])
local h = redis.call('HMGET', KEYS[1], 'rate', 'learned', 'blocked')
local p = redis.call('HMGET', KEYS[4], 'until', 'reason')
local rate = math.min(tonumber(h[1]) or ceiling, ceiling)
local learned = tonumber(h[2]) or ceiling
local blocked = math.max(0, (tonumber(h[3]) or 0) - now)
local paused = tonumber(p[1]) or 0
if paused <= now then paused = 0 end
return {tostring(rate), tostring(learned), tostring(blocked), tostring(paused), p[2] or ''}
`;
