import type { AfilnetMethod } from '../afilnet/index.ts';
import { AfilnetError, AfilnetRetryableError } from '../afilnet/index.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { Priority, RateBudget } from './rate-budget.ts';

/** Retryable failures persisted past the in-call retries: the job is retried with backoff. */
export class TransientSyncError extends Error {
  override name = 'TransientSyncError';
}

/** Jittered exponential backoff ("full jitter"): a random wait up to base·2^attempt, capped. */
export function backoffMs(attempt: number, baseMs = 250, capMs = 60_000): number {
  return Math.round(Math.random() * Math.min(capMs, baseMs * 2 ** attempt));
}

const IN_CALL_RETRIES = 3;

/**
 * The one place where an Afilnet failure meets retry policy. Every call takes a slot from the
 * account-wide budget; a 429 blocks the budget for its Retry-After and is retried without using an
 * attempt; other retryable failures are retried a few times here, then surface as
 * TransientSyncError (BullMQ's backoff takes over). API, ambiguous and protocol errors go to the
 * caller, who knows what they mean for the member.
 */
export class ApiCaller {
  private inFlight = 0;
  private readonly waiting: (() => void)[] = [];

  /**
   * @param maxInFlight calls in flight at once; at most the HTTP pool's connections, so a call
   * that got its budget slot is sent at once instead of queueing for a socket (queued calls
   * leave together and arrive as a burst the provider may refuse).
   */
  constructor(
    private readonly budget: RateBudget,
    private readonly metrics: Metrics | null,
    private readonly logger: Logger,
    private readonly maxInFlight = 8,
  ) {}

  async call<T>(method: AfilnetMethod, priority: Priority, fn: () => Promise<T>): Promise<T> {
    await this.enter();
    try {
      return await this.callWithRetries(method, priority, fn);
    } finally {
      this.leave();
    }
  }

  private async enter(): Promise<void> {
    if (this.inFlight < this.maxInFlight) {
      this.inFlight++;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  private leave(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.inFlight--;
  }

  private async callWithRetries<T>(
    method: AfilnetMethod,
    priority: Priority,
    fn: () => Promise<T>,
  ): Promise<T> {
    for (let attempt = 0; ;) {
      await this.budget.acquire(priority);
      const started = performance.now();
      try {
        const result = await fn();
        this.observe(method, 'success', started);
        await this.budget.feedback('ok');
        return result;
      } catch (err) {
        if (!(err instanceof AfilnetError)) throw err;
        this.observe(method, err.kind, started);
        if (err.kind !== 'retryable') throw err;
        if (err instanceof AfilnetRetryableError && err.reason === 'rate_limited') {
          this.metrics?.rateLimited.inc();
          await this.budget.feedback({ rateLimitedForMs: err.retryAfterMs ?? 1_000 });
          continue;
        }
        if (++attempt > IN_CALL_RETRIES) {
          throw new TransientSyncError(`${method} kept failing: ${err.message}`);
        }
        const wait = backoffMs(attempt);
        this.logger.debug({ method, attempt, wait }, 'retryable failure; retrying');
        await new Promise((r) => setTimeout(r, wait));
      }
    }
  }

  private observe(method: AfilnetMethod, outcome: string, started: number): void {
    if (!this.metrics) return;
    this.metrics.calls.inc({ method, outcome });
    this.metrics.callSeconds.observe({ method }, (performance.now() - started) / 1000);
    this.metrics.allowedRate.set(this.budget.currentRate);
  }
}
