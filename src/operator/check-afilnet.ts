import { AfilnetApiError, AfilnetClient } from '../afilnet/index.ts';
import type { AfilnetConfig } from '../config/config.ts';
import { failed, passed, reasonOf, type CheckResult } from './check-result.ts';

/** What to do about each account-wide refusal; anything else gets the generic advice. */
const FIXES: Record<string, string> = {
  INCORRECT_USER_PASSWORD:
    'Correct AFILNET_USER and AFILNET_PASSWORD (a password changed in the Afilnet panel must be changed here too).',
  MISSING_USER: 'Set AFILNET_USER.',
  MISSING_PASSWORD: 'Set AFILNET_PASSWORD.',
  NO_CREDITS: 'Top up the Afilnet account.',
};

/**
 * The credentials are accepted: one cheap authenticated call, getgroupcolumns of a group id no
 * account has. A wrong password answers INCORRECT_USER_PASSWORD whatever the method, so any
 * answer but an account-wide refusal (NOT_ACCESS_TO_GROUP included) means Afilnet let us in.
 * The call bypasses the daemon's rate budget: it is one call, made by a person.
 */
export async function checkAfilnet(config: Readonly<AfilnetConfig>): Promise<CheckResult> {
  const client = AfilnetClient.fromConfig(config);
  const where = new URL(config.AFILNET_BASE_URL).host;
  try {
    await client.getgroupcolumns('0');
    return passed('afilnet', `credentials accepted by ${where}`);
  } catch (err) {
    if (err instanceof AfilnetApiError && err.scope !== 'account') {
      return passed('afilnet', `credentials accepted by ${where}`);
    }
    if (err instanceof AfilnetApiError) {
      return failed(
        'afilnet',
        `${where} refuses the account: ${err.code}`,
        FIXES[err.code] ?? 'Log in to the Afilnet panel and see why the account is refused.',
      );
    }
    return failed(
      'afilnet',
      `cannot get an answer from ${where}: ${reasonOf(err)}`,
      'Check AFILNET_BASE_URL and that this host may reach it (DNS, firewall, proxy).',
    );
  } finally {
    await client.close().catch(() => undefined);
  }
}
