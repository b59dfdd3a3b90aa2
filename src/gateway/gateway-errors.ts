/** Retryable failures persisted past the in-call retries: the job is retried with backoff. */
export class TransientSyncError extends Error {
  override name = 'TransientSyncError';
}

/**
 * The account is paused (a wrong password, no credits: see `RateBudget.pauseAccount`) and stayed
 * paused longer than a call may wait. Transient, so a job holding the call is retried later
 * rather than holding a worker for hours; `untilMs` says when the pause ends (Infinity: until
 * someone resumes it).
 */
export class AccountPausedError extends TransientSyncError {
  override name = 'AccountPausedError';

  constructor(
    readonly untilMs: number,
    readonly reason: string,
  ) {
    super(
      `the Afilnet account is paused (${reason}) ` +
        (Number.isFinite(untilMs) ? `until ${new Date(untilMs).toISOString()}` : 'until resumed'),
    );
  }
}
