import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type pg from 'pg';
import { assertGroupsKnown } from '../unknown-group.ts';
import { applyInChunks } from './apply-in-chunks.ts';
import { RejectReport } from './reject-report.ts';
import { ImportFileError } from './source-record.ts';
import { stageFile } from './stage-file.ts';
import { STAGING_TABLE } from './staging-table.ts';

export type ImportFormat = 'csv' | 'ndjson';

export interface ImportOptions {
  file: string;
  /** Defaults to the file's extension: .csv, or .ndjson / .jsonl. */
  format?: ImportFormat;
  /** Also make every imported contact a member of this group (which must exist). */
  groupId?: string;
  /** Defaults to `<file>.errors.ndjson`. */
  reportPath?: string;
  onProgress?: (progress: ImportProgress) => void;
  progressEveryMs?: number;
  /** Most rows applied per transaction (IMPORT_CHUNK_ROWS by default). */
  chunkRows?: number;
}

export interface ImportProgress {
  phase: 'reading' | 'applying';
  bytesRead: number;
  totalBytes: number;
  read: number;
  rejected: number;
}

export interface ImportSummary {
  file: string;
  format: ImportFormat;
  groupId: string | null;
  /** Data rows read (header and blank lines excluded). */
  read: number;
  /** Contacts inserted or changed. */
  imported: number;
  inserted: number;
  updated: number;
  /** Contacts already holding exactly these values. */
  unchanged: number;
  /** Rows superseded by a later row with the same id. */
  duplicates: number;
  rejected: number;
  membersAdded: number;
  reportPath: string;
  seconds: number;
  rowsPerSecond: number;
}

/** From the extension, unless given. */
export function importFormatOf(file: string, format?: ImportFormat): ImportFormat {
  if (format) return format;
  const lower = file.toLowerCase();
  if (lower.endsWith('.csv')) return 'csv';
  if (lower.endsWith('.ndjson') || lower.endsWith('.jsonl')) return 'ndjson';
  throw new ImportFileError(
    `cannot tell the format of ${file} from its name: use .csv, .ndjson or .jsonl, or --format`,
  );
}

/**
 * The CRM bulk path. Streams the file (never whole in memory) through COPY into a temporary
 * table, then upserts `contacts` (and with a group, `group_members`) in transactions of at most
 * IMPORT_CHUNK_ROWS rows. Bad rows go to the report while good rows are committed; a re-import
 * of the same file changes nothing, and one interrupted part-way (a crash, a lost connection)
 * converges when run again. Throws ImportFileError when the file as a whole cannot be imported,
 * UnknownGroupError for an unknown group; in both cases nothing is written to the database
 * (the whole file is read and checked before the first chunk is applied).
 */
export async function importContacts(
  deps: { pool: pg.Pool },
  opts: ImportOptions,
): Promise<ImportSummary> {
  const started = performance.now();
  const format = importFormatOf(opts.file, opts.format);
  const groupId = opts.groupId ?? null;
  if (groupId !== null) await assertGroupsKnown(deps.pool, [groupId]);
  const totalBytes = await stat(opts.file).then(
    (s) => s.size,
    (err: NodeJS.ErrnoException) => {
      throw new ImportFileError(`cannot read ${opts.file}: ${err.code ?? err.message}`);
    },
  );
  const reportPath = opts.reportPath ?? `${opts.file}.errors.ndjson`;
  if (resolve(reportPath) === resolve(opts.file)) {
    throw new ImportFileError(
      'the report path is the file being imported: choose another --report',
    );
  }
  let lastProgress = 0;
  let read = 0;

  const client = await deps.pool.connect();
  let broken: Error | undefined;
  const input = createReadStream(opts.file, { highWaterMark: 1 << 20 });
  const report = new RejectReport(reportPath);
  const progress = (phase: ImportProgress['phase']) =>
    opts.onProgress?.({
      phase,
      bytesRead: input.bytesRead,
      totalBytes,
      read,
      rejected: report.count,
    });
  try {
    await report.ready();
    const staged = await stageFile(client, input, format, report, (n) => {
      read = n;
      if (performance.now() - lastProgress >= (opts.progressEveryMs ?? 500)) {
        lastProgress = performance.now();
        progress('reading');
      }
    });
    read = staged.read;
    progress('applying');
    const good = read - report.count;
    const counts = await applyInChunks(client, {
      staging: staged.staging,
      groupId,
      maybeDuplicates: staged.maybeDuplicates,
      staged: good,
      ...(opts.chunkRows !== undefined ? { chunkRows: opts.chunkRows } : {}),
      onChunk: () => progress('applying'),
    });
    await report.close();
    const seconds = (performance.now() - started) / 1000;
    return {
      file: opts.file,
      format,
      groupId,
      read,
      imported: counts.inserted + counts.updated,
      inserted: counts.inserted,
      updated: counts.updated,
      unchanged: counts.distinctIds - counts.inserted - counts.updated,
      duplicates: good - counts.distinctIds,
      rejected: report.count,
      membersAdded: counts.membersAdded,
      reportPath: report.path,
      seconds: Math.round(seconds * 1000) / 1000,
      rowsPerSecond: Math.round(read / Math.max(seconds, 0.001)),
    };
  } catch (err) {
    // A connection that failed mid-COPY or mid-transaction is not reused.
    broken = err instanceof Error ? err : new Error(String(err));
    input.destroy();
    await report.close().catch(() => undefined);
    throw err;
  } finally {
    // The staging table lives as long as the session, which the pool keeps: drop it here.
    if (broken === undefined) {
      await client.query(`DROP TABLE IF EXISTS pg_temp.${STAGING_TABLE}`).catch((err: unknown) => {
        broken = err instanceof Error ? err : new Error(String(err));
      });
    }
    client.release(broken);
  }
}
