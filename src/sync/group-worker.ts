import { RateLimitError, Worker, type ConnectionOptions, type Job, type Telemetry } from 'bullmq';
import { backoffMs, TransientSyncError } from '../gateway/api-caller.ts';
import type { Logger } from '../observability/logger.ts';
import { AccountRefusedError } from './account-refused-error.ts';
import type { AccountPause } from './account-pause.ts';
import { SYNC_QUEUE, type GroupJobData, type GroupQueue } from './group-queue.ts';
import { recordGroupRun, type RunOutcome } from '../state/group-runs.ts';
import { newTally, syncGroup, type GroupSyncDeps } from './sync-group.ts';
import { withGroupLock } from './group-lock.ts';

export interface GroupWorkerOptions {
  connection: ConnectionOptions;
  prefix: string;
  concurrency: number;
  queue: GroupQueue;
  logger: Logger;
  accountPause: AccountPause;
  /** Counts runs by outcome (afilnet_sync_group_runs_total). */
  onRun?: (outcome: RunOutcome) => void;
  /** BullMQ's OpenTelemetry integration: a job's run continues the trace that queued it. */
  telemetry?: Telemetry;
}

/**
 * The BullMQ worker: one job = one run for one group. A retryable failure throws, and BullMQ
 * retries with jittered exponential backoff; a run that hit its time slice queues the group again;
 * an account-wide refusal pauses the account and puts the job back without using an attempt.
 */
export function createGroupWorker(
  deps: GroupSyncDeps,
  opts: GroupWorkerOptions,
): Worker<GroupJobData> {
  const worker = new Worker<GroupJobData>(
    SYNC_QUEUE,
    async (job: Job<GroupJobData>) => {
      const { groupId } = job.data;
      const logger = opts.logger.child({ groupId, jobId: job.id });
      const tally = newTally();
      const startedAt = new Date().toISOString();
      // Every run that reached the group is recorded, however it ended (the history's point).
      const record = async (outcome: RunOutcome, error: string | null) => {
        await recordGroupRun(deps.pool, groupId, { startedAt, outcome, error, ...tally }).catch(
          (e: unknown) => logger.warn({ err: e }, 'run history not recorded'),
        );
        opts.onRun?.(outcome);
      };
      try {
        // A run whose lock connection died stops between chunks: another replica may take over.
        const outcome = await withGroupLock(deps.pool, groupId, (lockLost) =>
          syncGroup(
            { ...deps, logger, isStopping: () => lockLost() || (deps.isStopping?.() ?? false) },
            groupId,
            tally,
          ),
        );
        if (!outcome.paused) {
          const kind = deps.mode === 'shadow' ? 'shadow' : outcome.more ? 'more' : 'done';
          await record(outcome.failed === undefined ? kind : 'failed', outcome.failed ?? null);
        }
        if (outcome.more) await opts.queue.enqueue([groupId], { now: true });
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        if (!(err instanceof AccountRefusedError)) {
          await record(err instanceof TransientSyncError ? 'retry' : 'failed', message);
          throw err;
        }
        await record('account-refused', message);
        await opts.accountPause.pause(err.reason);
        throw new RateLimitError();
      }
    },
    {
      connection: opts.connection,
      prefix: opts.prefix,
      concurrency: opts.concurrency,
      ...(opts.telemetry && { telemetry: opts.telemetry }),
      // Needed for the queue-wide hold of an account pause (queue.rateLimit); never reached.
      limiter: { max: 1_000_000, duration: 1_000 },
      // A killed replica's job is taken over within ~20 s instead of BullMQ's default ~60 s.
      lockDuration: 15_000,
      stalledInterval: 5_000,
      maxStalledCount: 5,
      settings: {
        backoffStrategy: (attemptsMade: number) => 500 + backoffMs(attemptsMade, 500, 60_000),
      },
    },
  );
  worker.on('failed', (job, err) => {
    opts.logger.warn(
      { err, groupId: job?.data.groupId, attempts: job?.attemptsMade },
      'group sync failed',
    );
  });
  worker.on('error', (err) => opts.logger.error({ err }, 'worker error'));
  return worker;
}
