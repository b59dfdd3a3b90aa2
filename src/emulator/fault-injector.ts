import { z } from 'zod';

/** The faults in force; 0 means that fault is off. */
export interface FaultSettings {
  /** Every API answer (faults included) is held back this long, after the call was applied. */
  latencyMs: number;
  /** Share of calls answered HTTP 503 without being applied. */
  errorRate: number;
  /** Share of calls whose connection is destroyed without being applied or answered. */
  resetRate: number;
  /** Share of calls that are applied, then have their connection destroyed unanswered. */
  appliedThenResetRate: number;
  /** Calls admitted per account in any rolling second; beyond that HTTP 429. */
  rateLimitPerSecond: number;
}

/** One drawn fault. */
export type FaultKind = 'error' | 'reset' | 'applied_then_reset';

const NO_FAULTS: FaultSettings = {
  latencyMs: 0,
  errorRate: 0,
  resetRate: 0,
  appliedThenResetRate: 0,
  rateLimitPerSecond: 0,
};

const rate = z.number().min(0).max(1).nullable().optional();
const amount = z.number().min(0).nullable().optional();

/** A POST /__emulator/faults body: every key optional, null turns one off, typos refused. */
const faultPatch = z.strictObject({
  latencyMs: amount,
  errorRate: rate,
  resetRate: rate,
  appliedThenResetRate: rate,
  rateLimitPerSecond: amount,
});

/**
 * Holds the fault settings and draws, per call, which fault (if any) strikes. One random draw
 * is split between the three kinds in a fixed order (error, reset, applied-then-reset), so their
 * rates are shares of the same calls; if they add up to more than 1, the later ones get less.
 */
export class FaultInjector {
  private settings: FaultSettings = { ...NO_FAULTS };

  get current(): FaultSettings {
    return { ...this.settings };
  }

  /** Merges a patch into the current settings; throws a readable Error if it is not valid. */
  merge(patch: unknown): FaultSettings {
    const parsed = faultPatch.safeParse(patch);
    if (!parsed.success) throw new Error(z.prettifyError(parsed.error));
    for (const [key, value] of Object.entries(parsed.data)) {
      if (value !== undefined) this.settings[key as keyof FaultSettings] = value ?? 0;
    }
    return this.current;
  }

  clear(): void {
    this.settings = { ...NO_FAULTS };
  }

  draw(): FaultKind | undefined {
    const { errorRate, resetRate, appliedThenResetRate } = this.settings;
    if (errorRate + resetRate + appliedThenResetRate === 0) return undefined;
    const roll = Math.random();
    if (roll < errorRate) return 'error';
    if (roll < errorRate + resetRate) return 'reset';
    if (roll < errorRate + resetRate + appliedThenResetRate) return 'applied_then_reset';
    return undefined;
  }
}
