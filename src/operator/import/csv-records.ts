import type { ContactInput } from './contact-record.ts';
import { parseCsvFields, type CsvFieldState } from './csv-fields.ts';
import type { SourceLine } from './read-lines.ts';
import { ImportFileError, MAX_RECORD_BYTES, type SourceRecord } from './source-record.ts';

/** A quoted value may span lines, but not more than this many: beyond, the quote is unclosed. */
const MAX_RECORD_LINES = 1_000;

interface Header {
  delimiter: string;
  width: number;
  id: number;
  mobile: number;
  email: number;
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

function parseHeader(line: SourceLine): Header {
  if (!line.utf8)
    throw new ImportFileError(`the CSV header (line ${line.line}) is not valid UTF-8`);
  const text = line.text.replace(/^\uFEFF/, '');
  const delimiter = detectDelimiter(text);
  const state: CsvFieldState = { fields: [], field: '', inQuotes: false };
  if (parseCsvFields(text, delimiter, state) !== 'done') {
    throw new ImportFileError(`the CSV header (line ${line.line}) is malformed`);
  }
  const names = state.fields.map((n) => n.trim());
  const header: Header = {
    delimiter,
    width: names.length,
    id: -1,
    mobile: -1,
    email: -1,
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

function toInput(header: Header, fields: string[]): ContactInput {
  return {
    id: fields[header.id],
    mobile: header.mobile < 0 ? undefined : fields[header.mobile],
    email: header.email < 0 ? undefined : fields[header.email],
    attributes: header.attributes.map(([name, i]) => [name, fields[i] ?? '']),
  };
}

/**
 * Reads CSV records from lines (RFC 4180: quoted values may hold delimiters, doubled quotes and
 * line breaks; the first non-blank line is the header). A record that cannot be read is reported
 * with its first line number and the parse resumes at the next line, so one broken quote costs
 * one row rather than the rest of the file.
 */
export async function* csvRecords(
  batches: AsyncIterable<SourceLine[]>,
): AsyncGenerator<SourceRecord[]> {
  let header: Header | null = null;
  let open: OpenRecord | null = null;
  let out: SourceRecord[] = [];

  const emit = (lines: SourceLine[], fields: string[]) => {
    const first = lines[0] as SourceLine;
    const raw = lines.length === 1 ? first.text : lines.map((l) => l.text).join('\n');
    const h = header as Header;
    if (lines.some((l) => !l.utf8)) out.push({ line: first.line, raw, reason: 'not valid UTF-8' });
    else if (fields.length !== h.width) {
      out.push({
        line: first.line,
        raw,
        reason: `expected ${h.width} columns, found ${fields.length}`,
      });
    } else out.push({ line: first.line, raw, input: toInput(h, fields) });
  };
  // An unclosed quote: report its first line, read the lines after it again as fresh records.
  const abandon = () => {
    const o = open as OpenRecord;
    open = null;
    const first = o.lines[0] as SourceLine;
    out.push({
      line: first.line,
      raw: first.text,
      reason: 'unclosed quote (or a record over 1 MB)',
    });
    feed(o.lines.slice(1));
  };
  const step = (l: SourceLine): void => {
    if (header === null) {
      if (l.text.trim() !== '') header = parseHeader(l);
      return;
    }
    if (open !== null) {
      open.lines.push(l);
      open.chars += l.text.length + 1;
      if (l.oversize || open.chars > MAX_RECORD_BYTES || open.lines.length > MAX_RECORD_LINES) {
        return abandon();
      }
      open.state.field += '\n';
      const r = parseCsvFields(l.text, header.delimiter, open.state);
      if (r === 'open') return;
      const { lines, state } = open;
      open = null;
      if (r === 'done') return emit(lines, state.fields);
      const first = lines[0] as SourceLine;
      out.push({ line: first.line, raw: lines.map((x) => x.text).join('\n'), reason: r });
      return;
    }
    if (l.text.trim() === '') return;
    if (l.oversize) {
      out.push({ line: l.line, raw: l.text, reason: 'line longer than 1 MB' });
      return;
    }
    // Most rows have no quotes at all: split them without the state machine.
    if (!l.text.includes('"')) return emit([l], l.text.split(header.delimiter));
    const state: CsvFieldState = { fields: [], field: '', inQuotes: false };
    const r = parseCsvFields(l.text, header.delimiter, state);
    if (r === 'done') emit([l], state.fields);
    else if (r === 'open') open = { lines: [l], state, chars: l.text.length };
    else out.push({ line: l.line, raw: l.text, reason: r });
  };
  function feed(lines: SourceLine[]): void {
    for (const l of lines) step(l);
  }

  for await (const batch of batches) {
    feed(batch);
    if (out.length > 0) {
      yield out;
      out = [];
    }
  }
  while (open !== null) abandon();
  if (header === null) throw new ImportFileError('the file is empty: a CSV needs a header line');
  if (out.length > 0) yield out;
}
