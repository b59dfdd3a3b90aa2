import { isUtf8 } from 'node:buffer';
import { checkContact } from './contact-record.ts';
import type { CopyOut } from './copy-out.ts';
import { PlainCsvLines, type CsvColumns } from './csv-plain-line.ts';
import { CsvRecordReader, type CsvRecord } from './csv-records.ts';
import type { IdHashes } from './id-hashes.ts';
import { ndjsonRecord } from './ndjson-records.ts';
import {
  blockLines,
  decodeLine,
  endWithoutCr,
  oversizeLine,
  type LineBlock,
  type SourceLine,
} from './read-lines.ts';
import { MAX_RECORD_BYTES } from './source-record.ts';
import {
  csvStaging,
  encodeStagingRow,
  NDJSON_STAGING,
  type StagingTable,
} from './staging-table.ts';

export interface Reject {
  line: number;
  reason: string;
  raw: string;
}

/**
 * Turns blocks of lines into COPY rows for the staging table, and bad rows into rejects (in line
 * order, for the caller to report).
 */
export interface RowStager {
  push(block: LineBlock): void;
  /** At the end of the file. */
  end(): void;
  /** Known once the CSV header is read. */
  readonly staging: StagingTable | null;
  /** Data rows read, good and bad. */
  read: number;
  rejects: Reject[];
}

/** Lines longer than this are left to the exact path (no fast-path row is nearly that long). */
const FAST_LINE_BYTES = 64 * 1024;

/**
 * CSV: each data line is first offered to PlainCsvLines, which stages it straight from the
 * file's bytes when it is plainly good (nearly every line of a sane export). Lines it declines,
 * lines inside a quoted value spanning lines, and the header go through CsvRecordReader and
 * checkContact, which find the exact reason for a bad row.
 */
export class CsvStager implements RowStager {
  read = 0;
  rejects: Reject[] = [];
  staging: StagingTable | null = null;
  private readonly reader = new CsvRecordReader();
  private next = 1;
  /** Set once the header is read, unless its names would fail every row anyway. */
  private plain: PlainCsvLines | null = null;

  /** `plainLines: false` sends every line the exact way (tests compare the two paths). */
  constructor(
    private readonly out: CopyOut,
    private readonly ids: IdHashes,
    private readonly options = { plainLines: true },
  ) {}

  push(block: LineBlock): void {
    if ('cut' in block) return this.exact(oversizeLine(this.next++, block.cut));
    const { bytes, utf8 } = block;
    for (let start = 0; ;) {
      const nl = bytes.indexOf(10, start);
      const end = nl === -1 ? bytes.length : nl;
      const line = this.next++;
      const stop = endWithoutCr(bytes, start, end);
      const fast = this.plain;
      const plain =
        fast !== null &&
        !this.reader.inRecord &&
        end - start <= FAST_LINE_BYTES &&
        (utf8 || isUtf8(bytes.subarray(start, end)));
      if (!plain) this.exact(decodeLine(bytes, start, end, line, utf8, MAX_RECORD_BYTES));
      else if (stop === start) {
        // A blank line: skipped.
      } else if (fast.copy(bytes, start, stop, line, this.out)) {
        this.read += 1;
      } else this.exact(decodeLine(bytes, start, end, line, true, MAX_RECORD_BYTES));
      if (nl === -1) return;
      start = nl + 1;
    }
  }

  end(): void {
    this.reader.end();
    this.drain();
  }

  private exact(l: SourceLine): void {
    this.reader.push(l);
    if (this.staging === null && this.reader.header !== null) this.started();
    this.drain();
  }

  private started(): void {
    const header = this.reader.header;
    if (header === null) return;
    this.staging = csvStaging(header);
    if (!this.options.plainLines) return;
    // The attribute names are checked on every row: if they fail, every row takes the exact path.
    const names = header.attributes.map(([name]): [string, unknown] => [name, 'x']);
    if (checkContact({ id: 'x', mobile: undefined, email: undefined, attributes: names }).ok) {
      this.plain = new PlainCsvLines(header, this.ids);
    }
  }

  private drain(): void {
    const records = this.reader.out;
    if (records.length === 0) return;
    this.reader.out = [];
    for (const rec of records) {
      this.read += 1;
      if ('reason' in rec) this.rejects.push(rec);
      else this.stage(rec);
    }
  }

  /** A record read the exact way: staged in the same shape as the fast path's rows. */
  private stage(rec: CsvRecord): void {
    const checked = checkContact(rec.input);
    if (!checked.ok) {
      this.rejects.push({ line: rec.line, reason: checked.reason, raw: rec.raw });
      return;
    }
    const r = checked.record;
    const h = this.reader.header as CsvColumns;
    this.out.line(rec.line);
    rec.fields.forEach((value, i) => {
      if (i === h.id) this.out.field(r.id);
      else if (i === h.mobile) this.out.field(r.mobile ?? '');
      else if (i === h.email) this.out.field(r.email ?? '');
      else this.out.field(value);
    });
    this.out.endRow();
    this.ids.addString(r.id);
  }
}

/**
 * NDJSON: every line is parsed (JSON.parse is the check) and checked in JS, then staged in the
 * common shape (attributes as a JSON string).
 */
export class NdjsonStager implements RowStager {
  read = 0;
  rejects: Reject[] = [];
  readonly staging = NDJSON_STAGING;
  private next = 1;

  constructor(
    private readonly out: CopyOut,
    private readonly ids: IdHashes,
  ) {}

  push(block: LineBlock): void {
    const lines = blockLines(block, this.next, MAX_RECORD_BYTES);
    this.next += lines.length;
    for (const l of lines) {
      const rec = ndjsonRecord(l);
      if (rec === null) continue;
      this.read += 1;
      if ('reason' in rec) {
        this.rejects.push(rec);
        continue;
      }
      const checked = checkContact(rec.input);
      if (!checked.ok) this.rejects.push({ line: rec.line, reason: checked.reason, raw: rec.raw });
      else {
        this.out.row(encodeStagingRow(rec.line, checked.record));
        this.ids.addString(checked.record.id);
      }
    }
  }

  end(): void {}
}
