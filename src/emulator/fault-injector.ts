import { z } from 'zod';

/** The statuses an applied-then-error fault may answer with. */
export const APPLIED_ERROR_STATUSES = [502, 503, 504] as const;

/** The faults in force, as GET /__emulator/faults shows them; 0 or null means that one is off. */
export interface FaultSettings {
  /** Every API answer (faults included) is held back this long, after the call was applied. */
  latencyMs: number;
  /** Share of calls answered HTTP 503 without being applied. */
  errorRate: number;
  /** Share of calls whose connection is destroyed without being applied or answered. */
  resetRate: number;
  /** Share of calls that are applied, then have their connection destroyed unanswered. */
  appliedThenResetRate: number;
  /** Share of calls that are applied, then answered HTTP 502, 503 or 504. */
  appliedThenErrorRate: number;
  /** The status of those answers; 0 picks one of 502, 503, 504 at random each time. */
  appliedThenErrorStatus: number;
  /** Calls admitted per account in any rolling second; beyond that HTTP 429. */
  rateLimitPerSecond: number;
  /** Seconds put in every 429's Retry-After instead of the limiter's own; null: the limiter's. */
  retryAfterSeconds: number | null;
  /** How Retry-After is written: delay-seconds, or an IMF-fixdate that many seconds ahead. */
  retryAfterForm: 'seconds' | 'http-date';
  /** The API error code every call answers while it is in force; null: off. */
  accountError: string | null;
  /** How much longer the account error lasts, in ms; 0 while it lasts until cleared. */
  accountErrorForMs: number;
}

/** One drawn fault. */
export type FaultKind = 'error' | 'reset' | 'applied_then_reset' | 'applied_then_error';

type Rates = Pick<
  FaultSettings,
  'errorRate' | 'resetRate' | 'appliedThenResetRate' | 'appliedThenErrorRate'
>;
// The fixed order in which one draw is split between the kinds (documented in the README).
const DRAW_ORDER: readonly [keyof Rates, FaultKind][] = [
  ['errorRate', 'error'],
  ['resetRate', 'reset'],
  ['appliedThenResetRate', 'applied_then_reset'],
  ['appliedThenErrorRate', 'applied_then_error'],
];

const rate = z.number().min(0).max(1).nullable().optional();
const amount = z.number().min(0).nullable().optional();

/** A POST /__emulator/faults body: every key optional, null turns one off, typos refused. */
const faultPatch = z.strictObject({
  latencyMs: amount,
  errorRate: rate,
  resetRate: rate,
  appliedThenResetRate: rate,
  appliedThenErrorRate: rate,
  appliedThenErrorStatus: z
    .union([z.literal(0), ...APPLIED_ERROR_STATUSES.map((s) => z.literal(s))])
    .nullable()
    .optional(),
  rateLimitPerSecond: amount,
  retryAfterSeconds: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).nullable().optional(),
  retryAfterForm: z.enum(['seconds', 'http-date']).nullable().optional(),
  // Any code-shaped value, so tests can try codes the provider might invent, not only ours.
  accountError: z
    .string()
    .regex(/^[A-Z][A-Z0-9_]{0,63}$/)
    .nullable()
    .optional(),
  accountErrorForMs: amount,
});

type Plain = Omit<FaultSettings, 'accountError' | 'accountErrorForMs'>;

const NO_FAULTS: Plain = {
  latencyMs: 0,
  errorRate: 0,
  resetRate: 0,
  appliedThenResetRate: 0,
  appliedThenErrorRate: 0,
  appliedThenErrorStatus: 0,
  rateLimitPerSecond: 0,
  retryAfterSeconds: null,
  retryAfterForm: 'seconds',
};

/**
 * Holds the fault settings and draws, per call, which fault (if any) strikes. One random draw
 * is split between the kinds in a fixed order (error, reset, applied-then-reset,
 * applied-then-error), so their rates are shares of the same calls; if they add up to more than
 * 1, the later ones get less. The account error is not drawn: while in force it answers every call.
 */
export class FaultInjector {
  private settings: Plain = { ...NO_FAULTS };
  private accountCode: string | null = null;
  /** When the account error ends (epoch ms); Infinity while it lasts until cleared. */
  private accountUntil = Infinity;

  constructor(private readonly now: () => number = Date.now) {}

  get current(): FaultSettings {
    const code = this.accountError();
    const left =
      code === undefined || this.accountUntil === Infinity ? 0 : this.accountUntil - this.now();
    return { ...this.settings, accountError: code ?? null, accountErrorForMs: left };
  }

  /**
   * Merges a patch into the current settings; throws a readable Error if it is not valid, and
   * then nothing changed. `accountErrorForMs` counts from now; an `accountError` given without
   * it lasts until cleared.
   */
  merge(patch: unknown): FaultSettings {
    const parsed = faultPatch.safeParse(patch);
    if (!parsed.success) throw new Error(z.prettifyError(parsed.error));
    const { accountError, accountErrorForMs, ...plain } = parsed.data;
    if (accountErrorForMs && accountError === undefined && this.accountError() === undefined) {
      throw new Error('accountErrorForMs needs an accountError in force or in the same body');
    }
    for (const [key, value] of Object.entries(plain)) {
      if (value === undefined) continue;
      const off = NO_FAULTS[key as keyof Plain];
      (this.settings as unknown as Record<string, unknown>)[key] = value ?? off;
    }
    if (accountError !== undefined) {
      this.accountCode = accountError;
      this.accountUntil = Infinity;
    }
    if (accountErrorForMs !== undefined) {
      this.accountUntil = accountErrorForMs ? this.now() + accountErrorForMs : Infinity;
    }
    return this.current;
  }

  clear(): void {
    this.settings = { ...NO_FAULTS };
    this.accountCode = null;
    this.accountUntil = Infinity;
  }

  /** The code every call answers right now, if an account error is in force. */
  accountError(): string | undefined {
    if (this.accountCode === null) return undefined;
    if (this.now() < this.accountUntil) return this.accountCode;
    // Expired: forget it, so GET /faults shows it off and a later ForMs alone is refused.
    this.accountCode = null;
    this.accountUntil = Infinity;
    return undefined;
  }

  draw(): FaultKind | undefined {
    let total = 0;
    for (const [key] of DRAW_ORDER) total += this.settings[key];
    if (total === 0) return undefined;
    const roll = Math.random();
    let upTo = 0;
    for (const [key, kind] of DRAW_ORDER) {
      upTo += this.settings[key];
      if (roll < upTo) return kind;
    }
    return undefined;
  }

  /** The status of an applied-then-error answer: the one set, else one of the three at random. */
  appliedErrorStatus(): number {
    const set = this.settings.appliedThenErrorStatus;
    if (set !== 0) return set;
    return APPLIED_ERROR_STATUSES[Math.floor(Math.random() * APPLIED_ERROR_STATUSES.length)] ?? 503;
  }

  /** The Retry-After header of a 429, given the limiter's own whole seconds. */
  retryAfterHeader(limiterSeconds: number): string {
    const seconds = this.settings.retryAfterSeconds ?? limiterSeconds;
    if (this.settings.retryAfterForm === 'seconds') return String(seconds);
    // toUTCString writes the IMF-fixdate form RFC 9110 prefers ("Sun, 06 Nov 1994 08:49:37 GMT").
    const at = new Date(Math.min(this.now() + seconds * 1000, 8.64e15));
    return at.toUTCString();
  }
}
