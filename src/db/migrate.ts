import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { connectClient } from './connect.ts';
import {
  compareHistory,
  CREATE_HISTORY_TABLE,
  readHistory,
  recordFailed,
  recordFinished,
  recordStarted,
  type HistoryComparison,
  type HistoryRow,
} from './migration-history.ts';
import {
  migrationsDirOf,
  PRISMA_DIR,
  readMigrations,
  type MigrationFile,
} from './migrations-folder.ts';

/** The advisory lock Prisma's schema engine takes around migrations: ours and theirs serialise. */
export const MIGRATION_LOCK_ID = 72707369;

const DEFAULT_MIGRATIONS_DIR = migrationsDirOf(PRISMA_DIR);

export interface MigrateOptions {
  /** One line per step taken (waiting, applying, applied, warnings). */
  log?: (line: string) => void;
  /** Defaults to the project's prisma/migrations, located from this file, not the cwd. */
  migrationsDir?: string;
}

/** The migration history forbids going on: a recorded failure, or an applied file edited since. */
export class MigrationError extends Error {
  override name = 'MigrationError';
}

/** The daemon was started against a database whose migrations are pending or failed. */
export class DatabaseNotMigratedError extends Error {
  override name = 'DatabaseNotMigratedError';
}

/**
 * Applies every pending migration in name order, each as one simple query (so one implicit
 * transaction), recording each in `_prisma_migrations` exactly as `prisma migrate deploy` would.
 * Serialised across processes by Prisma's advisory lock; running it again applies nothing.
 */
export async function migrate(
  databaseUrl: string,
  opts: MigrateOptions = {},
): Promise<{ applied: string[] }> {
  const log = opts.log ?? (() => undefined);
  const files = await readMigrations(opts.migrationsDir ?? DEFAULT_MIGRATIONS_DIR);
  const client = await connectClient(databaseUrl);
  try {
    await lock(client, log);
    try {
      await client.query(CREATE_HISTORY_TABLE);
      const history = compareHistory(files, await readHistory(client));
      refuseUnsafeHistory(history);
      for (const name of history.unknown) {
        log(
          `warning: ${name} is applied but not in the migrations folder (newer code migrated it?)`,
        );
      }
      const applied: string[] = [];
      for (const file of history.pending) {
        await applyOne(client, file, log);
        applied.push(file.name);
      }
      return { applied };
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_ID]).catch(() => {});
    }
  } finally {
    await client.end().catch(() => {});
  }
}

/** What `migrate` would do now: migrations not yet applied, and recorded failures. Read-only. */
export async function migrationStatus(
  databaseUrl: string,
  opts: Pick<MigrateOptions, 'migrationsDir'> = {},
): Promise<{ pending: string[]; failed: string[] }> {
  const files = await readMigrations(opts.migrationsDir ?? DEFAULT_MIGRATIONS_DIR);
  const client = await connectClient(databaseUrl);
  try {
    const history = compareHistory(files, await readHistory(client));
    return {
      pending: history.pending.map((f) => f.name),
      failed: history.failed.map((r) => r.migration_name),
    };
  } finally {
    await client.end().catch(() => {});
  }
}

/** Throws DatabaseNotMigratedError unless every migration is applied: the daemon's start gate. */
export async function assertMigrated(
  databaseUrl: string,
  opts: Pick<MigrateOptions, 'migrationsDir'> = {},
): Promise<void> {
  const { pending, failed } = await migrationStatus(databaseUrl, opts);
  if (pending.length === 0 && failed.length === 0) return;
  const what = [
    pending.length > 0 ? `pending: ${pending.join(', ')}` : '',
    failed.length > 0 ? `failed: ${failed.join(', ')}` : '',
  ].filter(Boolean);
  throw new DatabaseNotMigratedError(
    `The database is not migrated (${what.join('; ')}). Run \`npx afilnet-sync migrate\` first.`,
  );
}

async function lock(client: pg.Client, log: (line: string) => void): Promise<void> {
  const tried = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [
    MIGRATION_LOCK_ID,
  ]);
  if (tried.rows[0]?.ok) return;
  log(`waiting for another migration run to finish (advisory lock ${MIGRATION_LOCK_ID})`);
  await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_ID]);
}

function refuseUnsafeHistory(history: HistoryComparison): void {
  const [failed] = history.failed;
  if (failed) throw new MigrationError(describeRecordedFailure(failed));
  if (history.changed.length > 0) {
    throw new MigrationError(
      `Refusing to migrate: ${history.changed.join(', ')} changed after being applied ` +
        '(its migration.sql no longer matches the checksum in _prisma_migrations). ' +
        'Restore the applied version from version control and put the change in a new migration ' +
        '(`npm run migration:new -- <name>`).',
    );
  }
}

function describeRecordedFailure(row: HistoryRow): string {
  return [
    `Refusing to migrate: migration ${row.migration_name} failed earlier and is still recorded as ` +
      'failed in _prisma_migrations; no further migration is applied until that is resolved.',
    row.logs ? `Its log:\n${indent(row.logs)}` : 'It left no log (the run was interrupted).',
    'Each migration runs as one transaction, so the failed one left no changes behind. Fix its ' +
      'cause, then mark it rolled back and run `npx afilnet-sync migrate` again:',
    `  UPDATE "_prisma_migrations" SET rolled_back_at = now() WHERE migration_name = '${row.migration_name}' AND finished_at IS NULL;`,
    `(on a machine that runs Prisma's engine: npx prisma migrate resolve --rolled-back ${row.migration_name})`,
  ].join('\n');
}

async function applyOne(
  client: pg.Client,
  file: MigrationFile,
  log: (line: string) => void,
): Promise<void> {
  const id = randomUUID();
  log(`applying ${file.name}`);
  const started = Date.now();
  await recordStarted(client, id, file);
  // A hand-written migration says with RAISE NOTICE what it could not do (segment_role).
  const notice = (n: { message?: string | undefined }): void =>
    log(`${file.name}: ${n.message ?? ''}`);
  client.on('notice', notice);
  try {
    // No parameters: pg sends a simple query, which Postgres runs as one implicit transaction,
    // so `$$` bodies need no splitting and a failure leaves none of the statements behind.
    await client.query(file.sql);
  } catch (err) {
    const logs = failureLog(file, err);
    // If the connection died, the row stays without logs: still a recorded failure.
    await recordFailed(client, id, logs).catch(() => {});
    throw new MigrationError(
      `Migration ${file.name} failed; none of its statements took effect and it is recorded as ` +
        `failed in _prisma_migrations.\n${indent(logs)}`,
      { cause: err },
    );
  } finally {
    client.off('notice', notice);
  }
  await recordFinished(client, id);
  log(`applied ${file.name} (${Date.now() - started} ms)`);
}

/** What goes into `_prisma_migrations.logs`: the error and where in the file it happened. */
function failureLog(file: MigrationFile, err: unknown): string {
  const e = (err ?? {}) as Partial<pg.DatabaseError> & { message?: string };
  const lines = [`Migration name: ${file.name}`];
  if (e.code) lines.push(`Database error code: ${e.code}`);
  lines.push(`Database error: ${e.message ?? String(err)}`);
  if (e.detail) lines.push(`Detail: ${e.detail}`);
  if (e.hint) lines.push(`Hint: ${e.hint}`);
  if (e.where) lines.push(`Where: ${e.where}`);
  const position = Number(e.position);
  if (Number.isInteger(position) && position > 0) {
    const line = file.sql.slice(0, position - 1).split('\n').length;
    lines.push(`Position: line ${line} of ${file.name}/migration.sql`);
  }
  return lines.join('\n');
}

const indent = (text: string): string =>
  text
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');
