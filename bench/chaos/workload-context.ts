import type pg from 'pg';
import type { GroupSpec } from './workload-sql.ts';

export type Tx = (sql: string, params?: unknown[]) => Promise<pg.QueryResult>;

/** What the operations share: counters, the groups to write to, and two SQL helpers. */
export interface WorkloadContext {
  readonly groups: GroupSpec[];
  /** Reserves `n` contact numbers; returns the first. */
  allocateContacts(n: number): number;
  /** A number for a fresh main value (never used before). */
  nextMainNumber(): number;
  nextBadId(): string;
  /** Ids of contacts that may exist; `hot` favours the small, often-edited range. */
  someIds(n: number, hot: boolean): string[];
  /** Inserts memberships, skipping pairs whose contact or group is gone; returns rows added. */
  insertMembers(tx: Tx, pairs: [string, string][]): Promise<number>;
}

export const rowCount = async (result: Promise<pg.QueryResult>): Promise<number> =>
  (await result).rowCount ?? 0;

/**
 * The soak's record of records it made bad on purpose, so the checker can tell a failure the
 * soak provoked from one the daemon invented. A plain table: no capture trigger sees it.
 */
export const BAD_RECORDS_DDL = `CREATE TABLE IF NOT EXISTS chaos_bad_records (
  contact_id text PRIMARY KEY, kind text NOT NULL)`;

export const recordBad = (tx: Tx, contactIds: string[], kind: string): Promise<pg.QueryResult> =>
  tx(
    `INSERT INTO chaos_bad_records (contact_id, kind) SELECT unnest($1::text[]), $2
     ON CONFLICT DO NOTHING`,
    [contactIds, kind],
  );
