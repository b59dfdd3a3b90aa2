import type { AuthWay } from './read-api-request.ts';

/** How a call ended, as the request log reports it. */
export type CallOutcome =
  | 'SUCCESS'
  | `ERROR:${string}`
  | 'rate_limited'
  | 'fault:error'
  | 'fault:reset'
  | 'fault:applied_then_reset'
  | 'fault:applied_then_error'
  | 'fault:account_error'
  | 'bad_request';

/** One entry of the request log. It never holds a password. */
export interface LoggedCall {
  /** When the request arrived: milliseconds since the epoch, with fractions. */
  at: number;
  httpMethod: string;
  /** Path and query as received, any password value replaced by `[redacted]`. */
  path: string;
  /** The `method` parameter, or null when the call named none. */
  method: string | null;
  passwordInUrl: boolean;
  auth: AuthWay;
  outcome: CallOutcome;
}

/** What GET /__emulator/calls answers. */
export interface CallCounters {
  total: number;
  byMethod: Record<string, number>;
  rejected: { rate_limited: number; fault: number };
}

/** How many calls the request log keeps; older ones fall off. */
export const REQUEST_LOG_SIZE = 100_000;

/**
 * Counts calls and keeps the last REQUEST_LOG_SIZE of them in a ring buffer, so a long benchmark
 * cannot grow the emulator's memory without bound.
 */
export class CallLog {
  private total = 0;
  private byMethod = new Map<string, number>();
  private rejected = { rate_limited: 0, fault: 0 };
  private ring: LoggedCall[] = [];
  private next = 0;

  /** Counts a call that reached the API, before anything can refuse it. */
  countArrival(method: string | undefined): void {
    this.total += 1;
    if (method !== undefined) this.byMethod.set(method, (this.byMethod.get(method) ?? 0) + 1);
  }

  /** Appends a finished call to the log (in the order outcomes were decided). */
  record(call: LoggedCall): void {
    if (call.outcome === 'rate_limited') this.rejected.rate_limited += 1;
    else if (call.outcome.startsWith('fault:')) this.rejected.fault += 1;
    if (this.ring.length < REQUEST_LOG_SIZE) this.ring.push(call);
    else this.ring[this.next] = call;
    this.next = (this.next + 1) % REQUEST_LOG_SIZE;
  }

  counters(): CallCounters {
    return {
      total: this.total,
      byMethod: Object.fromEntries(this.byMethod),
      rejected: { ...this.rejected },
    };
  }

  /** The logged calls, oldest first. */
  entries(): LoggedCall[] {
    if (this.ring.length < REQUEST_LOG_SIZE) return [...this.ring];
    return [...this.ring.slice(this.next), ...this.ring.slice(0, this.next)];
  }

  clear(): void {
    this.total = 0;
    this.byMethod = new Map();
    this.rejected = { rate_limited: 0, fault: 0 };
    this.ring = [];
    this.next = 0;
  }
}
