import type { EmulatorStore } from './emulator-store.ts';

/** What one call hands its method: the caller's account and its parameters. */
export interface CallContext {
  readonly store: EmulatorStore;
  /** The authenticated user: every group belongs to the account that created it. */
  readonly account: string;
  /** Creating methods leave their ids out when true (`--strict-docs`). */
  readonly strictDocs: boolean;
  /** A parameter's value; compulsory ones were checked to be present before the method runs. */
  param(name: string): string;
}

/**
 * A result that is a JSON array too large to build as one string: each item is one element's
 * compact JSON, produced lazily while the answer is being written.
 */
export class StreamedArray {
  constructor(readonly items: Iterable<string>) {}
}

/** One method of class=group: its compulsory parameters and what it does. */
export interface ApiMethod {
  readonly params: readonly string[];
  /** Returns the answer's `result` (undefined: no result key) or throws an ApiError. */
  run(ctx: CallContext): unknown;
}
