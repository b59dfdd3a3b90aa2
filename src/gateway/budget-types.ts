/** The rate budget's public shapes (rate-budget.ts re-exports them). */

/** Live changes go first; bulk work (re-syncs, column additions) uses what they leave. */
export type Priority = 'live' | 'bulk';

/** One call's permission: hand it back through `feedback` (or `release` if nothing was sent). */
export interface BudgetTicket {
  readonly id: string;
  /** Redis time (ms) of the grant. */
  readonly grantedAt: number;
}

/** What an operator (and `status`) needs to see of the budget. */
export interface BudgetState {
  /** Calls per second the budget allows now. */
  rate: number;
  ceiling: number;
  /** The provider's limit as last measured by a 429 (the ceiling until one was seen). */
  learned: number;
  /** Time left of a 429's Retry-After, ms (0: none). */
  blockedForMs: number;
  /** When an account-wide pause ends (epoch ms; Infinity: until resumed), or null. */
  pausedUntil: number | null;
  pauseReason: string | null;
}

export interface RateBudgetOptions {
  /** Slots missed by up to this long may still be used (a stall then costs no throughput). */
  catchUpMs?: number;
  /** Above the learned limit, probe upward only after this long without a 429. */
  probeQuietMs?: number;
  /** An answer later than this after the grant counts as arriving then (see budget-scripts). */
  arrivalBoundMs?: number;
  /** How long `acquire` waits through an account pause before it throws AccountPausedError. */
  maxPauseWaitMs?: number;
}

export interface AcquireOptions {
  /** Stops waiting (the promise rejects with the signal's reason), e.g. on shutdown. */
  signal?: AbortSignal;
}
