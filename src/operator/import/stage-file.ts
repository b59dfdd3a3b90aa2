import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { CopyOut } from './copy-out.ts';
import { IdHashes } from './id-hashes.ts';
import { readLineBlocks } from './read-lines.ts';
import type { RejectReport } from './reject-report.ts';
import { MAX_RECORD_BYTES } from './source-record.ts';
import { CsvStager, NdjsonStager, type RowStager } from './stage-rows.ts';
import type { StagingTable } from './staging-table.ts';

/** A deep buffer lets the file be parsed while Postgres is still reading the previous blocks. */
const COPY_BUFFER_BYTES = 4 * 1024 * 1024;

export interface StagedFile {
  staging: StagingTable;
  /** Data rows read, good and bad. */
  read: number;
  /** Whether some id may be staged twice (see IdHashes). */
  maybeDuplicates: boolean;
}

async function send(stream: Writable, blocks: Buffer[]): Promise<void> {
  for (const b of blocks) if (!stream.write(b)) await once(stream, 'drain');
}

/**
 * Reads the file into the staging table, within the caller's transaction: each chunk read
 * becomes COPY rows written as one block, while Postgres is still storing the previous ones.
 * Bad rows go to the report, in line order. `onBlock` is called after each chunk (progress).
 */
export async function stageFile(
  client: pg.PoolClient,
  input: AsyncIterable<Buffer>,
  format: 'csv' | 'ndjson',
  report: RejectReport,
  onBlock: (read: number) => void,
): Promise<StagedFile> {
  const out = new CopyOut();
  const ids = new IdHashes();
  const stager: RowStager = format === 'csv' ? new CsvStager(out, ids) : new NdjsonStager(out, ids);
  const reportRejects = async () => {
    for (const r of stager.rejects) await report.add(r.line, r.reason, r.raw);
    stager.rejects = [];
  };
  let copy: Writable | null = null;
  const startCopy = async (staging: StagingTable) => {
    await client.query(staging.create);
    const stream = client.query(copyFrom(staging.copy, { highWaterMark: COPY_BUFFER_BYTES }));
    // Without a listener a server-side COPY error would be an uncaught 'error' event; drain
    // and finished() report it instead.
    stream.on('error', () => undefined);
    return stream;
  };
  try {
    for await (const block of readLineBlocks(input, MAX_RECORD_BYTES)) {
      stager.push(block);
      await reportRejects();
      // The CSV table's columns are known from the header, in the first block.
      if (copy === null && stager.staging !== null) copy = await startCopy(stager.staging);
      if (copy !== null) await send(copy, out.take());
      onBlock(stager.read);
    }
    stager.end();
    await reportRejects();
    const staging = stager.staging as StagingTable;
    copy ??= await startCopy(staging);
    await send(copy, out.take(true));
    copy.end();
    // Sorting the id hashes takes a moment: taken while Postgres stores the last rows.
    const maybeDuplicates = ids.maybeDuplicates();
    await finished(copy);
    return { staging, read: stager.read, maybeDuplicates };
  } catch (err) {
    // Aborts the COPY (the server discards it); the file's error is the one worth reporting.
    copy?.destroy();
    throw err;
  }
}
