import { AfilnetApiError, type AfilnetClient } from '../afilnet/index.ts';
import type { RateBudget } from '../gateway/rate-budget.ts';
import type { Logger } from '../observability/logger.ts';

export interface AccountPauseDeps {
  budget: RateBudget;
  /** Stops every worker of every replica taking jobs for this long (BullMQ's queue rate limit). */
  holdQueue: (ms: number) => Promise<void>;
  releaseQueue: () => Promise<void>;
  /** Called once the account answers again: queue every group with work. */
  resumeWork: () => Promise<void>;
  client: AfilnetClient;
  logger: Logger;
  probeMs: number;
}

/**
 * The account-wide pause. When Afilnet refuses every call of the account (a rotated password,
 * `NO_CREDITS`), more calls only burn the budget and fail members: instead the rate budget is
 * paused for every replica (calls in flight wait), the queue is held, and a probe — one cheap
 * authenticated call per interval — resumes everything by itself once the account answers
 * again. Members waiting meanwhile keep their marks and sync without a `retry`.
 */
export class AccountPause {
  private timer: NodeJS.Timeout | null = null;
  private probing: Promise<void> | null = null;

  constructor(private readonly deps: AccountPauseDeps) {}

  async pause(reason: string): Promise<void> {
    const { budget, logger } = this.deps;
    if ((await budget.pausedUntil()) === null) {
      logger.error(
        { reason },
        'account paused: Afilnet refuses its calls; probing until it answers',
      );
      await budget.pauseAccount(Infinity, `${reason} (since ${new Date().toISOString()})`);
    }
    await this.deps.holdQueue(this.deps.probeMs);
  }

  /** Probes every `probeMs` while paused. */
  start(): void {
    this.timer = setInterval(() => {
      this.probing ??= this.probeOnce()
        .then(() => undefined)
        .catch((err: unknown) => this.deps.logger.warn({ err }, 'account probe failed'))
        .finally(() => {
          this.probing = null;
        });
    }, this.deps.probeMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.probing;
  }

  /** One probe: resumes when the account answers, holds the queue again when it does not. */
  async probeOnce(): Promise<boolean> {
    const { budget } = this.deps;
    if ((await budget.pausedUntil()) === null) return true;
    if (!(await accountAnswers(this.deps.client))) {
      await this.deps.holdQueue(this.deps.probeMs);
      return false;
    }
    await budget.resume();
    await this.deps.releaseQueue();
    this.deps.logger.info('account answers again: resuming');
    await this.deps.resumeWork();
    return true;
  }
}

/**
 * One cheap authenticated call: getgroupcolumns of a group id no account has. Any answer but an
 * account-wide refusal means the credentials are accepted again (`NOT_ACCESS_TO_GROUP` included).
 */
async function accountAnswers(client: AfilnetClient): Promise<boolean> {
  try {
    await client.getgroupcolumns('0');
    return true;
  } catch (err) {
    if (err instanceof AfilnetApiError) return err.scope !== 'account';
    return false;
  }
}
