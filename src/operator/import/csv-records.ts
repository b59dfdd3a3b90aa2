import type { ContactInput } from './contact-record.ts';
import { parseCsvFields, type CsvFieldState } from './csv-fields.ts';
import type { CsvColumns } from './csv-plain-line.ts';
import type { SourceLine } from './read-lines.ts';
import { ImportFileError, MAX_RECORD_BYTES, type SourceRecord } from './source-record.ts';

/** A quoted value may span lines, but not more than this many: beyond, the quote is unclosed. */
const MAX_RECORD_LINES = 1_000;

export interface CsvHeader extends CsvColumns {
  /** Every column by name, in file order. */
  names: string[];
  attributes: [string, number][];
}

interface OpenRecord {
  lines: SourceLine[];
  state: CsvFieldState;
  chars: number;
}

const RESERVED = ['id', 'mobile', 'email'] as const;

/** The most frequent of `,` `;` and tab in the header line: CRMs in many locales export `;`. */
function detectDelimiter(text: string): string {
  const counts = [',', ';', '\t'].map((d) => [d, text.split(d).length - 1] as const);
  const best = counts.reduce((a, b) => (b[1] > a[1] ? b : a));
  return best[1] > 0 ? best[0] : ',';
}

function parseHeader(line: SourceLine): CsvHeader {
  if (!line.utf8)
    throw new ImportFileError(`the CSV header (line ${line.line}) is not valid UTF-8`);
  const text = line.text.replace(/^\uFEFF/, '');
  const delimiter = detectDelimiter(text);
  const state: CsvFieldState = { fields: [], field: '', inQuotes: false };
  if (parseCsvFields(text, delimiter, state) !== 'done') {
    throw new ImportFileError(`the CSV header (line ${line.line}) is malformed`);
  }
  const names = state.fields.map((n) => n.trim());
  const header: CsvHeader = {
    delimiter,
    width: names.length,
    id: -1,
    mobile: -1,
    email: -1,
    names,
    attributes: [],
  };
  const seen = new Set<string>();
  names.forEach((name, i) => {
    if (name === '') throw new ImportFileError(`column ${i + 1} of the CSV header has no name`);
    const reserved = RESERVED.find((r) => r === name.toLowerCase());
    const key = reserved ?? name;
    if (seen.has(key)) throw new ImportFileError(`the CSV header names "${name}" twice`);
    seen.add(key);
    if (reserved) header[reserved] = i;
    else header.attributes.push([name, i]);
  });
  if (header.id < 0) throw new ImportFileError('the CSV header has no "id" column');
  return header;
}

/** One CSV record, parsed, as the fields it has (the same row in file order for staging). */
export interface CsvRecord {
  line: number;
  raw: string;
  fields: string[];
  input: ContactInput;
}

function toInput(header: CsvHeader, fields: string[]): ContactInput {
  return {
    id: fields[header.id],
    mobile: header.mobile < 0 ? undefined : fields[header.mobile],
    email: header.email < 0 ? undefined : fields[header.email],
    attributes: header.attributes.map(([name, i]) => [name, fields[i] ?? '']),
  };
}

/**
 * Reads CSV records from lines pushed one at a time (RFC 4180: quoted values may hold
 * delimiters, doubled quotes and line breaks; the first non-blank line is the header). A record
 * that cannot be read is reported with its first line number and the parse resumes at the next
 * line, so one broken quote costs one row rather than the rest of the file. Records and rejects
 * collect in `out`, in line order, for the caller to take.
 */
export class CsvRecordReader {
  header: CsvHeader | null = null;
  out: (CsvRecord | Extract<SourceRecord, { reason: string }>)[] = [];
  private open: OpenRecord | null = null;

  /** Whether a quoted value is still open: the next line belongs to it. */
  get inRecord(): boolean {
    return this.open !== null;
  }

  push(l: SourceLine): void {
    if (this.header === null) {
      if (l.text.trim() !== '') this.header = parseHeader(l);
      return;
    }
    const open = this.open;
    if (open !== null) {
      open.lines.push(l);
      open.chars += l.text.length + 1;
      if (l.oversize || open.chars > MAX_RECORD_BYTES || open.lines.length > MAX_RECORD_LINES) {
        return this.abandon();
      }
      open.state.field += '\n';
      const r = parseCsvFields(l.text, this.header.delimiter, open.state);
      if (r === 'open') return;
      this.open = null;
      if (r === 'done') return this.emit(open.lines, open.state.fields);
      const first = open.lines[0] as SourceLine;
      this.out.push({ line: first.line, raw: open.lines.map((x) => x.text).join('\n'), reason: r });
      return;
    }
    if (l.text.trim() === '') return;
    if (l.oversize) {
      this.out.push({ line: l.line, raw: l.text, reason: 'line longer than 1 MB' });
      return;
    }
    // Most rows have no quotes at all: split them without the state machine.
    if (!l.text.includes('"')) return this.emit([l], l.text.split(this.header.delimiter));
    const state: CsvFieldState = { fields: [], field: '', inQuotes: false };
    const r = parseCsvFields(l.text, this.header.delimiter, state);
    if (r === 'done') this.emit([l], state.fields);
    else if (r === 'open') this.open = { lines: [l], state, chars: l.text.length };
    else this.out.push({ line: l.line, raw: l.text, reason: r });
  }

  /** At the end of the file: a quote still open is unclosed. */
  end(): void {
    while (this.open !== null) this.abandon();
    if (this.header === null) {
      throw new ImportFileError('the file is empty: a CSV needs a header line');
    }
  }

  private emit(lines: SourceLine[], fields: string[]): void {
    const first = lines[0] as SourceLine;
    const raw = lines.length === 1 ? first.text : lines.map((l) => l.text).join('\n');
    const h = this.header as CsvHeader;
    if (lines.some((l) => !l.utf8)) {
      this.out.push({ line: first.line, raw, reason: 'not valid UTF-8' });
    } else if (fields.length !== h.width) {
      const reason = `expected ${h.width} columns, found ${fields.length}`;
      this.out.push({ line: first.line, raw, reason });
    } else this.out.push({ line: first.line, raw, fields, input: toInput(h, fields) });
  }

  // An unclosed quote: report its first line, read the lines after it again as fresh records.
  private abandon(): void {
    const o = this.open as OpenRecord;
    this.open = null;
    const first = o.lines[0] as SourceLine;
    this.out.push({
      line: first.line,
      raw: first.text,
      reason: 'unclosed quote (or a record over 1 MB)',
    });
    for (const l of o.lines.slice(1)) this.push(l);
  }
}
