import type pg from 'pg';
import type { Logger } from '../observability/logger.ts';

/**
 * The tables a bulk load grows by a million rows in a moment: the CRM's memberships and contacts
 * (one statement), the relay's marks, and the sync's own state and remote snapshot. Until they are
 * analysed the planner takes them for empty (a group of "238 members"), and hashes a whole group
 * for every page of 2,000 marks: minutes of work that should take milliseconds.
 */
export const KEPT_TABLES = [
  'sync_dirty',
  'group_members',
  'contacts',
  'sync_member_state',
  'sync_remote_snapshot',
] as const;

export interface StatisticsKeeperOptions {
  /** A table is analysed once this many rows changed since its last analysis… */
  minChangedRows?: number;
  /** …and they are at least this share of the rows it had then. */
  changedShare?: number;
  /** The statistics counters are read at most this often. */
  checkEveryMs?: number;
}

/**
 * Analyses the daemon's hot tables after big changes, without waiting for autovacuum (which may
 * be slow on a busy server, run minutes later, or be turned off). Cheap when nothing grew: one
 * read of pg_stat_user_tables, at most every `checkEveryMs`. ANALYZE samples 30,000 rows whatever
 * the table's size and takes no lock that blocks writers.
 */
export class StatisticsKeeper {
  private lastCheck = 0;
  private warned = false;
  private readonly minChangedRows: number;
  private readonly changedShare: number;
  private readonly checkEveryMs: number;

  constructor(
    private readonly pool: pg.Pool,
    private readonly logger: Logger,
    opts: StatisticsKeeperOptions = {},
  ) {
    this.minChangedRows = opts.minChangedRows ?? 10_000;
    this.changedShare = opts.changedShare ?? 0.1;
    this.checkEveryMs = opts.checkEveryMs ?? 2_000;
  }

  /** Analyses the tables that changed a lot since their last analysis; answers their names. */
  async maybeAnalyze(opts: { force?: boolean } = {}): Promise<string[]> {
    if (!opts.force && Date.now() - this.lastCheck < this.checkEveryMs) return [];
    this.lastCheck = Date.now();
    try {
      const res = await this.pool.query<{ relname: string }>(
        `SELECT s.relname FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
         WHERE s.schemaname = current_schema() AND s.relname = ANY($1::text[])
           AND s.n_mod_since_analyze >= $2
           AND s.n_mod_since_analyze >= $3 * greatest(c.reltuples, 0)
         ORDER BY s.relname`,
        [KEPT_TABLES, this.minChangedRows, this.changedShare],
      );
      const tables = res.rows.map((r) => r.relname);
      for (const table of tables) {
        // The names come from KEPT_TABLES (matched above), never from input.
        await this.pool.query(`ANALYZE ${table}`);
      }
      if (tables.length > 0) this.logger.debug({ tables }, 'analysed tables after big changes');
      return tables;
    } catch (err) {
      // A role that may not analyse (not the owner) still syncs; autovacuum does it later.
      if (!this.warned) this.logger.warn({ err }, 'could not analyse the sync tables');
      this.warned = true;
      return [];
    }
  }
}
