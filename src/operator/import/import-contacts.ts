import { once } from 'node:events';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { assertGroupsKnown } from '../unknown-group.ts';
import { checkContact } from './contact-record.ts';
import { csvRecords } from './csv-records.ts';
import { ndjsonRecords } from './ndjson-records.ts';
import { readLines } from './read-lines.ts';
import { RejectReport } from './reject-report.ts';
import { ImportFileError, MAX_RECORD_BYTES, type SourceRecord } from './source-record.ts';
import {
  applyStaged,
  COPY_STAGING_SQL,
  CREATE_STAGING_SQL,
  encodeStagingRow,
  STAGING_TABLE,
} from './staging-table.ts';

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

/** Flushes COPY text in blocks: one write per row would cost more than the rows themselves. */
const COPY_BLOCK_CHARS = 256 * 1024;
const COPY_BUFFER_BYTES = 4 * 1024 * 1024;

async function writeBlock(copy: Writable, block: string): Promise<void> {
  if (!copy.write(block)) await once(copy, 'drain');
}

/**
 * The CRM bulk path. Streams the file (never whole in memory) through COPY into a temporary
 * table, then upserts `contacts` (and with a group, `group_members`) in one transaction. Bad rows
 * go to the report while good rows are committed; a re-import of the same file changes nothing.
 * Throws ImportFileError when the file as a whole cannot be imported, UnknownGroupError for an
 * unknown group; in both cases nothing is written to the database.
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
  let read = 0;
  let lastProgress = 0;

  const client = await deps.pool.connect();
  let broken: Error | undefined;
  const input = createReadStream(opts.file, { highWaterMark: 1 << 20 });
  const lines = readLines(input, MAX_RECORD_BYTES);
  const records: AsyncIterable<SourceRecord[]> =
    format === 'csv' ? csvRecords(lines) : ndjsonRecords(lines);
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
    await client.query(CREATE_STAGING_SQL);
    // A deep buffer lets the file be parsed while Postgres is still reading the previous blocks.
    const copy = client.query(copyFrom(COPY_STAGING_SQL, { highWaterMark: COPY_BUFFER_BYTES }));
    // Without a listener a server-side COPY error would be an uncaught 'error' event; drain and
    // finished() report it instead.
    copy.on('error', () => undefined);
    try {
      let block = '';
      for await (const batch of records) {
        for (const rec of batch) {
          read += 1;
          if ('reason' in rec) {
            await report.add(rec.line, rec.reason, rec.raw);
            continue;
          }
          const checked = checkContact(rec.input);
          if (!checked.ok) await report.add(rec.line, checked.reason, rec.raw);
          else block += encodeStagingRow(rec.line, checked.record);
        }
        if (block.length >= COPY_BLOCK_CHARS) {
          await writeBlock(copy, block);
          block = '';
        }
        if (performance.now() - lastProgress >= (opts.progressEveryMs ?? 500)) {
          lastProgress = performance.now();
          progress('reading');
        }
      }
      if (block.length > 0) await writeBlock(copy, block);
      copy.end();
      await finished(copy);
    } catch (err) {
      // Aborts the COPY (the server discards it); the file's error is the one worth reporting.
      copy.destroy();
      throw err;
    }
    await client.query(`ANALYZE ${STAGING_TABLE}`);
    progress('applying');
    const counts = await applyStaged(client, groupId);
    await client.query(`DROP TABLE ${STAGING_TABLE}`);
    await report.close();
    const seconds = (performance.now() - started) / 1000;
    const staged = read - report.count;
    return {
      file: opts.file,
      format,
      groupId,
      read,
      imported: counts.inserted + counts.updated,
      inserted: counts.inserted,
      updated: counts.updated,
      unchanged: counts.distinctIds - counts.inserted - counts.updated,
      duplicates: staged - counts.distinctIds,
      rejected: report.count,
      membersAdded: counts.membersAdded,
      reportPath: report.path,
      seconds: Math.round(seconds * 1000) / 1000,
      rowsPerSecond: Math.round(read / Math.max(seconds, 0.001)),
    };
  } catch (err) {
    // A connection that failed mid-COPY or still holds the staging table is not reused.
    broken = err instanceof Error ? err : new Error(String(err));
    input.destroy();
    await report.close().catch(() => undefined);
    throw err;
  } finally {
    client.release(broken);
  }
}
