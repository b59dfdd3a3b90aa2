import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import { OP_WEIGHTS, type OpKind, type Workload } from './workload.ts';

type Tx = (sql: string, params?: unknown[]) => Promise<pg.QueryResult>;

export interface DriveStats {
  /** Rows written by transactions whose COMMIT was acknowledged. */
  changes: number;
  byKind: Record<string, number>;
  transactions: number;
  failedTransactions: number;
  /** COMMIT sent but not acknowledged (e.g. Postgres restarting): may or may not have applied. */
  ambiguousCommits: number;
  errors: Record<string, number>;
}

/** Picks an operation kind by weight, among those not left out. */
function kindPicker(without: string[]): () => OpKind {
  const kinds = (Object.keys(OP_WEIGHTS) as OpKind[]).filter((k) => !without.includes(k));
  const total = kinds.reduce((sum, k) => sum + OP_WEIGHTS[k], 0);
  return () => {
    let r = Math.random() * total;
    for (const kind of kinds) {
      r -= OP_WEIGHTS[kind];
      if (r < 0) return kind;
    }
    return 'add';
  };
}

/**
 * Concurrent CRM writers at a steady pace (changes per second). A failed transaction (Postgres
 * restarting, a deadlock between writers) is counted and skipped: the next one is new work.
 */
export class Driver {
  readonly stats: DriveStats = {
    changes: 0,
    byKind: {},
    transactions: 0,
    failedTransactions: 0,
    ambiguousCommits: 0,
    errors: {},
  };
  private stopping = false;
  private workers: Promise<void>[] = [];
  private started = 0;
  private step = 0;
  private readonly pickKind: () => OpKind;

  constructor(
    private readonly pool: pg.Pool,
    private readonly workload: Workload,
    private readonly opts: {
      workers: number;
      changesPerSecond: number;
      maxChanges: number;
      without: string[];
    },
  ) {
    this.pickKind = kindPicker(opts.without);
  }

  start(): void {
    this.started = Date.now();
    this.workers = Array.from({ length: this.opts.workers }, () => this.work());
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.workers);
  }

  /** One transaction; false when it failed (the reason is counted in `errors`). */
  async transaction(fn: (tx: Tx) => Promise<number>, kind: string): Promise<boolean> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      this.failed(err);
      return false;
    }
    let broken = false;
    const onError = (): void => {
      broken = true;
    };
    client.on('error', onError);
    let committing = false;
    try {
      await client.query('BEGIN');
      const changes = await fn((sql, params) => client.query(sql, params));
      committing = true;
      await client.query('COMMIT');
      this.stats.transactions++;
      this.stats.changes += changes;
      this.stats.byKind[kind] = (this.stats.byKind[kind] ?? 0) + changes;
      return true;
    } catch (err) {
      if (committing) this.stats.ambiguousCommits++;
      this.failed(err);
      await client.query('ROLLBACK').catch(() => (broken = true));
      return false;
    } finally {
      client.off('error', onError);
      // A connection cut by a restart is discarded rather than handed to the next writer.
      client.release(broken ? true : undefined);
    }
  }

  private failed(err: unknown): void {
    this.stats.failedTransactions++;
    const e = err as { code?: string; message?: string };
    const key = e.code ?? e.message?.slice(0, 60) ?? 'unknown';
    this.stats.errors[key] = (this.stats.errors[key] ?? 0) + 1;
  }

  private async work(): Promise<void> {
    // Bounded by the change ceiling and by stop(); each pass makes or fails one transaction.
    while (!this.stopping && this.stats.changes < this.opts.maxChanges) {
      const due = ((Date.now() - this.started) / 1000) * this.opts.changesPerSecond;
      if (this.stats.changes > due) {
        await sleep(
          Math.min(500, ((this.stats.changes - due) / this.opts.changesPerSecond) * 1000),
        );
        continue;
      }
      const kind = this.pickKind();
      const step = ++this.step;
      const ok = await this.transaction((tx) => this.workload.run(kind, tx, step), kind);
      // After a failure, a short pause: Postgres may be restarting.
      if (!ok) await sleep(200);
    }
  }
}
