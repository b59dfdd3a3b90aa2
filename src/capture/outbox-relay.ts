import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import type { Logger } from '../observability/logger.ts';
import type { ClaimNote, ClaimSpan } from '../observability/tracing.ts';
import { staleDirtyGroups } from '../state/dirty-marks.ts';
import { claimOutbox } from './claim-outbox.ts';
import { StatisticsKeeper } from './keep-statistics.ts';

export const OUTBOX_CHANNEL = 'afilnet_sync_outbox';

export interface OutboxRelayDeps {
  pool: pg.Pool;
  databaseUrl: string;
  /** Hands groups with new work to the queue; called after the claim committed. */
  enqueueGroups: (groupIds: string[]) => Promise<void>;
  logger: Logger;
  pollMs: number;
  batchSize: number;
  /** Dirty marks older than this are re-enqueued (a job lost with Redis, a crash after commit). */
  sweepAfterMs?: number;
  onClaimed?: (count: number) => void;
  /** Groups whose segment was set or edited (the segment refresher evaluates them whole). */
  onSegmentEdits?: (groupIds: string[]) => void;
  /**
   * Analyses the hot tables after big changes (a bulk load's marks, memberships and the sync's
   * state); null turns it off. Default: a keeper on `pool`.
   */
  statistics?: StatisticsKeeper | null;
  /**
   * Runs each claim, and the enqueue of the groups it marked, in a span (tracing on), so the
   * queued jobs continue the claim's trace.
   */
  claimSpan?: ClaimSpan;
}

/**
 * Turns the outbox into queued work. Wakes on NOTIFY (a dedicated connection that reconnects and
 * re-LISTENs), polls anyway, and sweeps dirty marks whose job may have been lost.
 */
export class OutboxRelay {
  private listener: pg.Client | null = null;
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private wake: (() => void) | null = null;
  /** A NOTIFY arrived while the loop was busy: go round again instead of sleeping. */
  private wakePending = false;
  private loop: Promise<void> | null = null;
  private listening: Promise<void> | null = null;
  private stopping = new AbortController();
  private lastSweep = 0;
  /**
   * A pass failed: a claim's commit may have reached the server with its answer lost (a restart,
   * a broken connection), its marks written and its groups never queued. The next pass that
   * succeeds queues every group with marks, not only those older than the sweep age.
   */
  private sweepAllPending = false;
  private readonly statistics: StatisticsKeeper | null;

  constructor(private readonly deps: OutboxRelayDeps) {
    this.statistics =
      deps.statistics === undefined
        ? new StatisticsKeeper(deps.pool, deps.logger)
        : deps.statistics;
  }

  start(): void {
    this.running = true;
    this.stopping = new AbortController();
    this.loop = this.run();
    this.listening = this.listen();
  }

  /** Stops claiming and listening; resolves once no connection of the relay's own is left open. */
  async stop(): Promise<void> {
    this.running = false;
    this.stopping.abort();
    this.wakeUp();
    await this.loop;
    await this.listener?.end().catch(() => undefined);
    await this.listening;
    if (this.timer) clearTimeout(this.timer);
  }

  /** Claims batches until the outbox is empty; returns how many rows it moved. */
  async drain(): Promise<number> {
    let total = 0;
    for (;;) {
      const { claimed, segmentGroups, segmentChanges } = await this.traced(async (note) => {
        const claim = await claimOutbox(this.deps.pool, this.deps.batchSize);
        note(claim.claimed, claim.groups.length);
        if (claim.groups.length > 0) await this.deps.enqueueGroups(claim.groups);
        return claim;
      });
      if (segmentGroups.length > 0) this.deps.onSegmentEdits?.(segmentGroups);
      total += claimed;
      if (claimed > 0) this.deps.onClaimed?.(claimed);
      // Between claims too: the workers page the first marks while a million more arrive, and
      // their queries must be planned for the group's real size.
      if (claimed > 0) await this.statistics?.maybeAnalyze();
      // Segment membership changes left capture rows of their own: claim them now.
      if (claimed < this.deps.batchSize && segmentChanges === 0) return total;
    }
  }

  private traced<T>(run: (note: ClaimNote) => Promise<T>): Promise<T> {
    return this.deps.claimSpan ? this.deps.claimSpan(run) : run(() => undefined);
  }

  /** Re-enqueues groups whose dirty marks are older than `ageMs` (default: the sweep age). */
  async sweep(ageMs = this.deps.sweepAfterMs ?? 30_000): Promise<void> {
    const groups = await staleDirtyGroups(this.deps.pool, ageMs);
    if (groups.length > 0) await this.deps.enqueueGroups(groups);
  }

  /** Wakes the loop if it sleeps; if it is mid-pass, makes it take one more pass. */
  private wakeUp(): void {
    this.wakePending = true;
    this.wake?.();
  }

  private async run(): Promise<void> {
    while (this.running) {
      // Cleared before the pass: a NOTIFY for a commit the pass's claim could not see yet
      // (it arrived mid-pass) sets it again, and the loop goes round instead of sleeping.
      this.wakePending = false;
      let failed = false;
      try {
        await this.drain();
        if (this.sweepAllPending) {
          await this.sweep(0);
          this.sweepAllPending = false;
        }
        // Every pass (at most every few seconds): the sync's own tables grow without the outbox.
        await this.statistics?.maybeAnalyze();
        if (Date.now() - this.lastSweep > (this.deps.sweepAfterMs ?? 30_000) / 2) {
          this.lastSweep = Date.now();
          await this.sweep();
        }
      } catch (err) {
        failed = true;
        this.sweepAllPending = true;
        this.deps.logger.warn({ err }, 'relay pass failed; will retry');
      }
      if (!this.running) break;
      // After a failure, wait for the next NOTIFY or poll rather than retrying in a tight loop.
      if (this.wakePending && !failed) continue;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        this.timer = setTimeout(resolve, this.deps.pollMs);
      });
      if (this.timer) clearTimeout(this.timer);
      this.wake = null;
    }
  }

  private async listen(): Promise<void> {
    while (this.running) {
      const client = new pg.Client({
        connectionString: this.deps.databaseUrl,
        connectionTimeoutMillis: 10_000,
        // An idle LISTEN connection is never written to: keepalives notice a dead peer.
        keepAlive: true,
        keepAliveInitialDelayMillis: 10_000,
      });
      const closed = new Promise<void>((resolve) => {
        client.on('error', () => resolve());
        client.on('end', () => resolve());
      });
      try {
        await client.connect();
        client.on('notification', () => this.wakeUp());
        await client.query(`LISTEN ${OUTBOX_CHANNEL}`);
        this.listener = client;
        // stop() may have run while we connected; it could not end a client it did not see.
        if (this.running) {
          // Catch up on anything committed while we were not listening.
          this.wakeUp();
          await closed;
          if (this.running) this.deps.logger.warn('relay listener lost; reconnecting');
        }
      } catch (err) {
        if (this.running) this.deps.logger.warn({ err }, 'relay listener failed; reconnecting');
      }
      this.listener = null;
      await client.end().catch(() => undefined);
      if (this.running) {
        await sleep(1_000, undefined, { signal: this.stopping.signal }).catch(() => undefined);
      }
    }
  }
}
