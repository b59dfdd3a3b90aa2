import type { Redis } from 'ioredis';
import { AfilnetApiError } from '../afilnet/index.ts';
import type { AfilnetClient } from '../afilnet/index.ts';
import type { Logger } from '../observability/logger.ts';

/** Why the account is paused, and since when (epoch ms). */
export interface PauseState {
  reason: string;
  since: number;
}

export interface AccountPauseDeps {
  redis: Redis;
  prefix: string;
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
 * `NO_CREDITS`), sending more only burns calls and fails members: instead the queue is held for
 * every replica, the reason is kept in Redis (for `status`, readiness and metrics), and a probe —
 * one cheap authenticated call per interval — resumes everything by itself once the account
 * answers again. Members waiting meanwhile keep their marks and sync without a `retry`.
 */
export class AccountPause {
  private timer: NodeJS.Timeout | null = null;
  private probing: Promise<void> | null = null;

  constructor(private readonly deps: AccountPauseDeps) {}

  private get key(): string {
    return `${this.deps.prefix}:account-pause`;
  }

  async pause(reason: string): Promise<void> {
    const state: PauseState = { reason, since: Date.now() };
    // NX: the first reason and time stay (many jobs report the same refusal).
    const set = await this.deps.redis.set(this.key, JSON.stringify(state), 'NX');
    if (set === 'OK') this.deps.logger.error({ reason }, 'account paused: Afilnet refuses its calls');
    await this.deps.holdQueue(this.deps.probeMs);
  }

  async current(): Promise<PauseState | null> {
    return readPause(this.deps.redis, this.deps.prefix);
  }

  /** Probes every `probeMs` while paused. */
  start(): void {
    const tick = () => {
      this.probing = this.probeOnce()
        .then(() => undefined)
        .catch((err: unknown) => this.deps.logger.warn({ err }, 'account probe failed'))
        .finally(() => {
          this.probing = null;
        });
    };
    this.timer = setInterval(tick, this.deps.probeMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.probing;
  }

  /** One probe: resumes when the account answers, holds the queue again when it does not. */
  async probeOnce(): Promise<boolean> {
    if ((await this.current()) === null) return true;
    if (!(await accountAnswers(this.deps.client))) {
      await this.deps.holdQueue(this.deps.probeMs);
      return false;
    }
    await this.deps.redis.del(this.key);
    await this.deps.releaseQueue();
    this.deps.logger.info('account answers again: resuming');
    await this.deps.resumeWork();
    return true;
  }
}

/** The pause recorded for a queue prefix, if any (read by status and readiness too). */
export async function readPause(redis: Redis, prefix: string): Promise<PauseState | null> {
  const raw = await redis.get(`${prefix}:account-pause`);
  if (raw === null) return null;
  try {
    return JSON.parse(raw) as PauseState;
  } catch {
    return { reason: 'unreadable pause record', since: 0 };
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
