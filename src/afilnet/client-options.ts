import type { AfilnetErrorScope } from './error-scope.ts';
import type { AfilnetMethod } from './methods.ts';
import type { UnreadableContact } from './result-shapes.ts';

/** How a call ended, as reported to `afterCall`. */
export type CallOutcome = 'success' | 'api_error' | 'retryable' | 'ambiguous' | 'protocol';

/** What `afterCall` learns about each call; never parameters or answer data. */
export interface CallInfo {
  method: AfilnetMethod;
  outcome: CallOutcome;
  ms: number;
  retryAfterMs?: number;
  apiCode?: string;
  /** With `apiCode`: how far the refusal reaches (account, group or this call). */
  apiScope?: AfilnetErrorScope;
  /** `getcontacts` only, when some contacts were left out as unreadable: how many. */
  unreadableContacts?: number;
}

/** Options of `streamContacts` and `getcontacts`. */
export interface StreamContactsOptions {
  /**
   * Called for each contact left out because it could not be read; the stream goes on. Errors
   * it throws end the stream and are thrown as they are.
   */
  onUnreadable?: (contact: UnreadableContact) => void;
}

/** Hooks around every call: a rate limiter before, metrics and logs after. */
export interface AfilnetHooks {
  /** Awaited before each request is sent; may delay it. If it throws, nothing is sent. */
  beforeCall?: (method: AfilnetMethod) => Promise<void>;
  /** Called once per attempted call. Its errors are swallowed: metrics must not fail a call. */
  afterCall?: (info: CallInfo) => void;
}

/** Options of an `AfilnetClient`. Time-outs in milliseconds. */
export interface AfilnetClientOptions {
  baseUrl: string;
  user: string;
  password: string;
  auth: 'post' | 'basic';
  connectTimeoutMs?: number;
  headersTimeoutMs?: number;
  bodyTimeoutMs?: number;
  connections?: number;
  hooks?: AfilnetHooks;
}

/** The parameters of `creategroup`; `fields` must include the main field (`mobile`/`email`). */
export interface CreateGroupInput {
  name: string;
  type: 'mobile' | 'email';
  fields: readonly string[];
}
