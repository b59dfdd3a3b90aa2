import type { Redis } from 'ioredis';
import { ACQUIRE, FEEDBACK, STATE } from './budget-scripts.ts';
import type {
  AcquireOptions,
  BudgetState,
  BudgetTicket,
  Priority,
  RateBudgetOptions,
} from './budget-types.ts';
import { AccountPausedError } from './gateway-errors.ts';

export type { AcquireOptions, BudgetState, BudgetTicket, Priority, RateBudgetOptions };

interface Waiter {
  resolve: (ticket: BudgetTicket) => void;
  reject: (err: unknown) => void;
  since: number;
  cleanup: () => void;
}

/** Polls at least this often while waiting, so a resume or a changed limit is seen promptly. */
const MAX_POLL_MS = 1_000;
/** Stored for a pause "until resumed": far enough, and still a plain number in Redis. */
const FOREVER = 8.64e15;

/**
 * One account-wide call budget in Redis, shared by every replica, with priorities: live calls take
 * the next slot whenever they ask; bulk calls take only slots no live caller is waiting for, so
 * they use whatever live traffic leaves and never make a live call wait more than one interval.
 * Waiters queue in this process (one Redis round trip serves several), so parked bulk calls
 * cost nothing. The rate adapts to the provider's 429s (see budget-scripts.ts).
 */
export class RateBudget {
  private readonly keys: string[];
  private readonly queues: Record<Priority, Waiter[]> = { live: [], bulk: [] };
  private readonly pumping: Record<Priority, boolean> = { live: false, bulk: false };
  private readonly catchUpMs: number;
  private readonly probeQuietMs: number;
  private readonly maxPauseWaitMs: number;
  private readonly arrivalBoundMs: number;
  /** Until when (local ms) a 429 answered in this process blocks calls. */
  private blockedLocallyUntil = 0;
  /** The rate last seen in Redis, for metrics. */
  currentRate: number;

  constructor(
    private readonly redis: Redis,
    prefix: string,
    private readonly ceiling: number,
    private readonly onWait?: (ms: number, priority: Priority) => void,
    options: RateBudgetOptions = {},
  ) {
    const key = `${prefix}:rate-budget`;
    this.keys = [key, `${key}:in-flight`, `${key}:answered`, `${prefix}:account-pause`];
    this.currentRate = ceiling;
    this.catchUpMs = options.catchUpMs ?? 100;
    this.probeQuietMs = options.probeQuietMs ?? 300_000;
    this.maxPauseWaitMs = options.maxPauseWaitMs ?? 30_000;
    this.arrivalBoundMs = options.arrivalBoundMs ?? 250;
  }

  /**
   * Resolves with a ticket when this caller may make one call. While the account is paused it
   * waits (seeing a `resume()` from any replica within a second), and throws AccountPausedError
   * once it has waited `maxPauseWaitMs`.
   */
  acquire(priority: Priority = 'live', opts: AcquireOptions = {}): Promise<BudgetTicket> {
    return new Promise<BudgetTicket>((resolve, reject) => {
      const { signal } = opts;
      const aborted = () =>
        signal?.reason instanceof Error ? signal.reason : new Error('acquire aborted');
      if (signal?.aborted) return reject(aborted());
      const queue = this.queues[priority];
      const onAbort = () => {
        const at = queue.indexOf(waiter);
        if (at >= 0) queue.splice(at, 1);
        reject(aborted());
      };
      const waiter: Waiter = {
        resolve,
        reject,
        since: Date.now(),
        cleanup: () => signal?.removeEventListener('abort', onAbort),
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      queue.push(waiter);
      void this.pump(priority);
    });
  }

  /** Hands back a ticket with its call's outcome: answered (any answer but a 429) or a 429. */
  async feedback(
    ticket: BudgetTicket,
    outcome: 'ok' | { rateLimitedForMs: number },
  ): Promise<void> {
    // The caller caps Retry-After by its setting; this only keeps a bad value from reaching Redis.
    const retryAfter =
      outcome === 'ok' ? -1 : Math.min(Math.max(0, outcome.rateLimitedForMs), 2 ** 31 - 1);
    if (retryAfter >= 0) {
      this.blockedLocallyUntil = Math.max(this.blockedLocallyUntil, Date.now() + retryAfter);
    }
    await this.sendFeedback(ticket, retryAfter);
  }

  /**
   * Whether a 429 answered in this process still blocks calls. A ticket granted before it that
   * is still waiting for a connection must not be used: it would go out into the refusal.
   */
  isBlocked(): boolean {
    return Date.now() < this.blockedLocallyUntil;
  }

  /** Hands back a ticket whose call was never sent. */
  async release(ticket: BudgetTicket): Promise<void> {
    await this.sendFeedback(ticket, -2);
  }

  /** The rate, the learned limit, a 429's block and the account pause, as Redis holds them. */
  async state(): Promise<BudgetState> {
    const [rate, learned, blocked, paused, reason] = (await this.redis.eval(
      STATE,
      4,
      ...this.keys,
      String(this.ceiling),
    )) as string[];
    this.currentRate = Number(rate);
    const until = Number(paused);
    return {
      rate: this.currentRate,
      ceiling: this.ceiling,
      learned: Number(learned),
      blockedForMs: Number(blocked),
      pausedUntil: until > 0 ? (until >= FOREVER ? Infinity : until) : null,
      pauseReason: until > 0 ? (reason ?? '') : null,
    };
  }

  /**
   * Pauses every call of every replica until `untilMs` (epoch ms; Infinity: until `resume()`),
   * replacing any pause in force. For account-level refusals (a wrong password, no credits),
   * where each further call would only be refused too.
   */
  async pauseAccount(untilMs: number, reason: string): Promise<void> {
    const until = Math.min(untilMs, FOREVER);
    const key = this.keys[3] as string;
    await this.redis
      .multi()
      .hset(key, 'until', String(Math.round(until)), 'reason', reason)
      .pexpireat(key, Math.round(until) + 1_000)
      .exec();
  }

  /** Ends the account pause; waiting calls of every replica go on within a second. */
  async resume(): Promise<void> {
    await this.redis.del(this.keys[3] as string);
  }

  /** When the account pause ends (Infinity: until resumed), or null when not paused. */
  async pausedUntil(): Promise<number | null> {
    return (await this.state()).pausedUntil;
  }

  private async sendFeedback(ticket: BudgetTicket, retryAfter: number): Promise<void> {
    const args = [ticket.id, String(ticket.grantedAt), String(retryAfter)];
    const rate = await this.redis.eval(
      FEEDBACK,
      4,
      ...this.keys,
      String(this.ceiling),
      ...args,
      String(this.probeQuietMs),
      String(this.arrivalBoundMs),
    );
    this.currentRate = Number(rate);
  }

  /** One loop per priority asks Redis for as many tickets as callers wait, then sleeps. */
  private async pump(priority: Priority): Promise<void> {
    if (this.pumping[priority]) return;
    this.pumping[priority] = true;
    const queue = this.queues[priority];
    try {
      while (queue.length > 0) {
        const want = Math.min(queue.length, 64);
        const reply = (await this.redis.eval(
          ACQUIRE,
          4,
          ...this.keys,
          String(this.ceiling),
          priority,
          String(want),
          String(this.catchUpMs),
        )) as string[];
        const [status, retryText, rate, now] = reply;
        const retryIn = Number(retryText);
        if (status === 'paused') {
          this.expirePauseWaiters(queue, retryIn, reply[4] ?? '');
          if (queue.length > 0) await sleep(this.pauseSleep(queue, retryIn));
          continue;
        }
        this.currentRate = Number(rate);
        for (const id of reply.slice(4)) await this.hand(priority, { id, grantedAt: Number(now) });
        if (status !== 'ok' && queue.length > 0) await sleep(Math.min(retryIn, MAX_POLL_MS));
      }
    } catch (err) {
      for (const w of queue.splice(0)) {
        w.cleanup();
        w.reject(err);
      }
    } finally {
      this.pumping[priority] = false;
    }
  }

  /** Gives a ticket to the longest waiter; one that gave up meanwhile returns it unused. */
  private async hand(priority: Priority, ticket: BudgetTicket): Promise<void> {
    const waiter = this.queues[priority].shift();
    if (!waiter) return this.release(ticket);
    waiter.cleanup();
    const waited = Date.now() - waiter.since;
    if (waited > 0) this.onWait?.(waited, priority);
    waiter.resolve(ticket);
  }

  private expirePauseWaiters(queue: Waiter[], pausedForMs: number, reason: string): void {
    const until = pausedForMs >= FOREVER / 2 ? Infinity : Date.now() + pausedForMs;
    const now = Date.now();
    for (let i = queue.length - 1; i >= 0; i--) {
      const w = queue[i] as Waiter;
      if (now - w.since < this.maxPauseWaitMs) continue;
      queue.splice(i, 1);
      w.cleanup();
      w.reject(new AccountPausedError(until, reason));
    }
  }

  private pauseSleep(queue: Waiter[], pausedForMs: number): number {
    const firstDeadline = Math.min(...queue.map((w) => w.since + this.maxPauseWaitMs));
    return Math.max(1, Math.min(pausedForMs, MAX_POLL_MS, firstDeadline - Date.now()));
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
