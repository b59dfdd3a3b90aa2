/**
 * Afilnet refused a call for the whole account (a rotated password, no credit left): the run
 * stops with every mark kept and no member failed, and the account is paused until a probe
 * succeeds.
 */
export class AccountRefusedError extends Error {
  override name = 'AccountRefusedError';
  constructor(readonly reason: string) {
    super(reason);
  }
}
