/** How long one rolling window lasts. */
const WINDOW_MS = 1000;

/**
 * Admits at most N calls per account in any rolling second. Only admitted calls are remembered,
 * so a client that waits as told by Retry-After gets through instead of being starved by its own
 * refused retries.
 */
export class RateLimiter {
  private readonly admitted = new Map<string, number[]>();

  /**
   * Records and admits the call (undefined), or answers how many whole seconds to wait (≥ 1).
   * A limit of 0 means no limit.
   */
  admit(account: string, limitPerSecond: number, nowMs: number): number | undefined {
    if (limitPerSecond <= 0) return undefined;
    let times = this.admitted.get(account);
    if (!times) {
      times = [];
      this.admitted.set(account, times);
    }
    const windowStart = nowMs - WINDOW_MS;
    let expired = 0;
    while (expired < times.length && (times[expired] ?? 0) <= windowStart) expired += 1;
    if (expired > 0) times.splice(0, expired);
    const oldest = times[0];
    if (oldest !== undefined && times.length >= limitPerSecond) {
      return Math.max(1, Math.ceil((oldest + WINDOW_MS - nowMs) / 1000));
    }
    times.push(nowMs);
    return undefined;
  }

  clear(): void {
    this.admitted.clear();
  }
}
