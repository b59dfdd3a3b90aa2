import { Queue, type ConnectionOptions, type Telemetry } from 'bullmq';

export const SYNC_QUEUE = 'group-sync';

export interface GroupJobData {
  groupId: string;
}

/**
 * The queue of groups with work. A job names a group only (the worker reads current state), and is
 * deduplicated per group with keepLastIfActive: a burst collapses into one job, and a change that
 * arrives while the group is being synced schedules exactly one more run.
 */
export class GroupQueue {
  readonly queue: Queue<GroupJobData>;

  constructor(
    connection: ConnectionOptions,
    prefix: string,
    private readonly windowMs: number,
    private readonly maxAttempts: number,
    /** BullMQ's OpenTelemetry integration: a job carries the trace context it was added in. */
    telemetry?: Telemetry,
  ) {
    this.queue = new Queue<GroupJobData>(SYNC_QUEUE, {
      connection,
      prefix,
      ...(telemetry && { telemetry }),
    });
  }

  /** Schedules a sync of each group after the batch window (immediately with `now`). */
  async enqueue(groupIds: string[], opts: { now?: boolean } = {}): Promise<void> {
    if (groupIds.length === 0) return;
    await this.queue.addBulk(
      groupIds.map((groupId) => ({
        name: 'sync',
        data: { groupId },
        opts: {
          deduplication: { id: groupId, keepLastIfActive: true },
          delay: opts.now ? 0 : this.windowMs,
          attempts: this.maxAttempts,
          backoff: { type: 'jitter' },
          removeOnComplete: { count: 1_000 },
          removeOnFail: { count: 10_000 },
        },
      })),
    );
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}
