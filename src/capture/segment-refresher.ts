import type pg from 'pg';
import type { Logger } from '../observability/logger.ts';
import {
  dropStaleSegmentStates,
  dueSegmentGroups,
  evaluateSegmentGroup,
  recordSegmentError,
  type SegmentEvaluation,
} from '../state/segment-membership.ts';

export interface SegmentRefresherDeps {
  pool: pg.Pool;
  logger: Logger;
  /** SEGMENT_REFRESH_MS: how often a time-dependent segment is re-evaluated whole. */
  refreshMs: number;
  /** SEGMENT_TIMEOUT_MS: the statement timeout of one whole evaluation. */
  timeoutMs: number;
  /** How often to look for due groups when nothing wakes the refresher. */
  pollMs: number;
}

/**
 * Evaluates segment groups whole, each as one diff in a transaction of its own: when a segment is
 * set or edited (the relay wakes it with the group's id), and every `refreshMs` for filters whose
 * result can change without a contact changing (now(), other tables). Outside the relay's claim,
 * so a long evaluation never delays other groups' changes. Its membership changes are captured
 * like any other and become dirty marks through the relay.
 */
export class SegmentRefresher {
  private running = false;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private timer: NodeJS.Timeout | null = null;
  private forced = new Set<string>();

  constructor(private readonly deps: SegmentRefresherDeps) {}

  start(): void {
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
  }

  /** Asks for these groups to be evaluated at once (their segment was set or edited). */
  request(groupIds: readonly string[]): void {
    for (const id of groupIds) this.forced.add(id);
    this.wake?.();
  }

  /** One pass: evaluates every due group; returns what each evaluation found (null: failed). */
  async refreshDue(): Promise<Map<string, SegmentEvaluation | null>> {
    const forced = [...this.forced];
    this.forced.clear();
    const due = await dueSegmentGroups(this.deps.pool, this.deps.refreshMs, forced);
    const results = new Map<string, SegmentEvaluation | null>();
    for (const groupId of due) {
      if (!this.running && this.loop !== null) break;
      results.set(groupId, await this.evaluate(groupId));
    }
    await dropStaleSegmentStates(this.deps.pool);
    return results;
  }

  private async evaluate(groupId: string): Promise<SegmentEvaluation | null> {
    const client = await this.deps.pool.connect();
    const ignore = (): void => undefined;
    client.on('error', ignore);
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      await client.query(`SELECT set_config('statement_timeout', $1, true)`, [
        String(this.deps.timeoutMs),
      ]);
      const result = await evaluateSegmentGroup(client, groupId);
      await client.query('COMMIT');
      if (result && result.entered + result.left > 0) {
        this.deps.logger.info({ groupId, ...result }, 'segment evaluated');
      }
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch((e: unknown) => {
        broken = e instanceof Error ? e : new Error(String(e));
      });
      const message = err instanceof Error ? err.message : String(err);
      this.deps.logger.warn({ groupId, err }, 'segment evaluation failed; recorded on the group');
      await recordSegmentError(this.deps.pool, groupId, message).catch((e: unknown) => {
        this.deps.logger.warn({ groupId, err: e }, 'could not record the segment failure');
      });
      return null;
    } finally {
      client.off('error', ignore);
      client.release(broken);
    }
  }

  private async run(): Promise<void> {
    while (this.running) {
      try {
        await this.refreshDue();
      } catch (err) {
        this.deps.logger.warn({ err }, 'segment refresh pass failed; will retry');
      }
      if (!this.running) break;
      if (this.forced.size > 0) continue;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        this.timer = setTimeout(resolve, this.deps.pollMs);
      });
      if (this.timer) clearTimeout(this.timer);
      this.wake = null;
    }
  }
}
