/**
 * Every call of the account is refused (a rotated password, no credit left): the run stops with
 * every mark kept and no member failed, and the account is paused until a probe succeeds.
 */
export class AccountPausedError extends Error {
  override name = 'AccountPausedError';
  constructor(readonly reason: string) {
    super(reason);
  }
}
