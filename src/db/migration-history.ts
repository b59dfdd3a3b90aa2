import type pg from 'pg';
import { z } from 'zod';
import type { MigrationFile } from './migrations-folder.ts';

/**
 * Prisma's own DDL for its bookkeeping table (the schema engine's Postgres flavour), column for
 * column, so `prisma migrate deploy` and `prisma migrate status` read what this runner writes.
 */
export const CREATE_HISTORY_TABLE = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`;

const historyRow = z.object({
  id: z.string(),
  checksum: z.string(),
  migration_name: z.string(),
  finished_at: z.date().nullable(),
  rolled_back_at: z.date().nullable(),
  logs: z.string().nullable(),
});
export type HistoryRow = z.infer<typeof historyRow>;

/** The rows of `_prisma_migrations`, oldest first; none when the table does not exist yet. */
export async function readHistory(client: pg.Client): Promise<HistoryRow[]> {
  const exists = await client.query<{ t: string | null }>(
    `SELECT to_regclass('"_prisma_migrations"')::text AS t`,
  );
  if (!exists.rows[0]?.t) return [];
  const { rows } = await client.query(
    `SELECT id, checksum, migration_name, finished_at, rolled_back_at, logs
       FROM "_prisma_migrations" ORDER BY started_at, migration_name`,
  );
  return z.array(historyRow).parse(rows);
}

/** The migrations folder held against the database's record of it. */
export interface HistoryComparison {
  /** In the folder, not applied (a rolled-back failure counts as not applied, as for Prisma). */
  pending: MigrationFile[];
  /** Started and never finished nor marked rolled back: blocks every later run. */
  failed: HistoryRow[];
  /** Applied, but the file's bytes have changed since. */
  changed: string[];
  /** Applied, but not in this folder: the database was migrated by newer code. */
  unknown: string[];
}

/** Classifies every migration the way Prisma's `migrate status` does. Pure. */
export function compareHistory(files: MigrationFile[], rows: HistoryRow[]): HistoryComparison {
  const live = rows.filter((r) => r.rolled_back_at === null);
  const applied = new Map(
    live.filter((r) => r.finished_at !== null).map((r) => [r.migration_name, r]),
  );
  const failed = live.filter((r) => r.finished_at === null);
  const failedNames = new Set(failed.map((r) => r.migration_name));
  const fileNames = new Set(files.map((f) => f.name));
  return {
    pending: files.filter((f) => !applied.has(f.name) && !failedNames.has(f.name)),
    failed,
    changed: files
      .filter((f) => applied.has(f.name) && applied.get(f.name)?.checksum !== f.checksum)
      .map((f) => f.name),
    unknown: [...applied.keys()].filter((name) => !fileNames.has(name)),
  };
}

/** Records the start, as Prisma does: a crash before the end leaves a failed row behind. */
export async function recordStarted(
  client: pg.Client,
  id: string,
  file: MigrationFile,
): Promise<void> {
  await client.query(
    `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, applied_steps_count)
     VALUES ($1, $2, $3, now(), 0)`,
    [id, file.checksum, file.name],
  );
}

export async function recordFinished(client: pg.Client, id: string): Promise<void> {
  await client.query(
    `UPDATE "_prisma_migrations"
        SET finished_at = now(), applied_steps_count = applied_steps_count + 1
      WHERE id = $1`,
    [id],
  );
}

export async function recordFailed(client: pg.Client, id: string, logs: string): Promise<void> {
  await client.query(`UPDATE "_prisma_migrations" SET logs = $2 WHERE id = $1`, [id, logs]);
}
