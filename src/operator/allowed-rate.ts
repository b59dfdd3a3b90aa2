import type { Redis } from 'ioredis';

/** The account-wide call rate the workers may use now. */
export interface AllowedRate {
  /** Calls per second. */
  rate: number;
  ceiling: number;
  /** `budget`: learned by the rate budget (lowered after a 429); `ceiling`: nothing learned yet. */
  source: 'budget' | 'ceiling';
}

/**
 * Reads the adaptive rate the RateBudget keeps in `${prefix}:rate-budget` (field `rate`). The
 * budget never uses more than the ceiling even if the stored value is higher (the ceiling may
 * have been lowered since), so neither does this report.
 */
export async function readAllowedRate(
  redis: Redis,
  prefix: string,
  ceiling: number,
): Promise<AllowedRate> {
  const stored = Number(await redis.hget(`${prefix}:rate-budget`, 'rate'));
  if (!Number.isFinite(stored) || stored <= 0) return { rate: ceiling, ceiling, source: 'ceiling' };
  return { rate: Math.min(stored, ceiling), ceiling, source: 'budget' };
}

/**
 * The account-wide pause the rate budget keeps in `${prefix}:account-pause` (hash: until,
 * reason), set when Afilnet refuses every call of the account; null when not paused.
 */
export async function readAccountPause(
  redis: Redis,
  prefix: string,
): Promise<{ reason: string } | null> {
  const [until, reason] = await redis.hmget(`${prefix}:account-pause`, 'until', 'reason');
  if (until === null || !(Number(until) > Date.now())) return null;
  return { reason: reason ?? 'paused' };
}
