import type { AfilnetMethod } from '../afilnet/index.ts';
import { AfilnetError, AfilnetRetryableError } from '../afilnet/index.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import { ConnectionSlots } from './connection-slots.ts';
import { TransientSyncError } from './gateway-errors.ts';
import { isIdempotent } from './idempotency.ts';
import type { BudgetTicket, Priority, RateBudget } from './rate-budget.ts';

export { AccountPausedError, TransientSyncError } from './gateway-errors.ts';

/** Jittered exponential backoff ("full jitter"): a random wait up to base·2^attempt, capped. */
export function backoffMs(attempt: number, baseMs = 250, capMs = 60_000): number {
  return Math.round(Math.random() * Math.min(capMs, baseMs * 2 ** attempt));
}

const IN_CALL_RETRIES = 3;
/** A 429 without a usable Retry-After blocks the budget this long. */
const DEFAULT_RETRY_AFTER_MS = 1_000;

export interface ApiCallerOptions {
  /**
   * The longest Retry-After honoured (AFILNET_MAX_RETRY_AFTER_MS): a provider answering
   * "86400" must not freeze the account for a day, and Node's timers overflow past 2^31 ms.
   */
  maxRetryAfterMs?: number;
}

/**
 * The one place where an Afilnet failure meets retry policy. Every call takes a ticket from the
 * account-wide budget first, then a connection slot (live before bulk), so a parked bulk call
 * holds nothing a live call needs. A 429 blocks the budget for its (capped) Retry-After and is
 * retried without using an attempt; other retryable failures, and ambiguous ones on idempotent
 * methods, are retried a few times here, then surface as TransientSyncError (BullMQ's backoff
 * takes over). API and protocol errors, and ambiguous ones on creating methods, go to the caller,
 * who knows what they mean for the member.
 */
export class ApiCaller {
  private readonly slots: ConnectionSlots;
  private readonly maxRetryAfterMs: number;

  /**
   * @param maxInFlight calls in flight at once; at most the HTTP pool's connections, so a call
   * that got its budget ticket is sent at once instead of queueing for a socket.
   */
  constructor(
    private readonly budget: RateBudget,
    private readonly metrics: Metrics | null,
    private readonly logger: Logger,
    maxInFlight = 8,
    options: ApiCallerOptions = {},
  ) {
    this.slots = new ConnectionSlots(maxInFlight);
    this.maxRetryAfterMs = options.maxRetryAfterMs ?? 300_000;
  }

  async call<T>(method: AfilnetMethod, priority: Priority, fn: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ;) {
      const ticket = await this.budget.acquire(priority);
      const started = performance.now();
      let err: unknown;
      try {
        const sent = await this.send(ticket, priority, fn);
        if (!sent) continue;
        this.observe(method, 'success', started);
        return sent.result;
      } catch (caught) {
        err = caught;
      }
      if (!(err instanceof AfilnetError)) throw err;
      this.observe(method, err.kind, started);
      if (err instanceof AfilnetRetryableError && err.reason === 'rate_limited') continue;
      const retriable =
        err.kind === 'retryable' || (err.kind === 'ambiguous' && isIdempotent(method));
      if (!retriable) throw err;
      if (++attempt > IN_CALL_RETRIES) {
        throw new TransientSyncError(`${method} kept failing: ${err.message}`, { cause: err });
      }
      const wait = backoffMs(attempt);
      this.logger.debug({ method, attempt, wait, kind: err.kind }, 'failure; retrying');
      await new Promise((r) => setTimeout(r, wait));
    }
  }

  /**
   * One attempt on a connection slot; the ticket always goes back with what happened. Null when
   * a 429 arrived while this call waited for its connection: then it is not sent at all.
   */
  private async send<T>(
    ticket: BudgetTicket,
    priority: Priority,
    fn: () => Promise<T>,
  ): Promise<{ result: T } | null> {
    await this.slots.enter(priority);
    if (this.budget.isBlocked()) {
      this.slots.leave();
      await this.budget.release(ticket);
      return null;
    }
    let outcome: 'ok' | { rateLimitedForMs: number } = 'ok';
    try {
      return { result: await fn() };
    } catch (err) {
      if (err instanceof AfilnetRetryableError && err.reason === 'rate_limited') {
        this.metrics?.rateLimited.inc();
        outcome = { rateLimitedForMs: this.retryAfter(err.retryAfterMs) };
      }
      throw err;
    } finally {
      this.slots.leave();
      // A lost feedback only leaves the ticket counted until it expires; never mask the answer.
      await this.budget.feedback(ticket, outcome).catch((e: unknown) => {
        this.logger.warn({ err: e }, 'rate budget feedback failed');
      });
    }
  }

  /** The provider's Retry-After, capped by the setting (and a missing one replaced). */
  private retryAfter(ms: number | undefined): number {
    const wanted = ms ?? DEFAULT_RETRY_AFTER_MS;
    if (wanted > this.maxRetryAfterMs) {
      this.logger.warn(
        { retryAfterMs: wanted, cappedAt: this.maxRetryAfterMs },
        'Retry-After longer than AFILNET_MAX_RETRY_AFTER_MS; waiting the maximum instead',
      );
    }
    return Math.min(wanted, this.maxRetryAfterMs);
  }

  private observe(method: AfilnetMethod, outcome: string, started: number): void {
    if (!this.metrics) return;
    this.metrics.calls.inc({ method, outcome });
    this.metrics.callSeconds.observe({ method }, (performance.now() - started) / 1000);
    this.metrics.allowedRate.set(this.budget.currentRate);
  }
}
