import { MAX_VALUE_LENGTH } from './contact-record.ts';
import { putInt, type CopyOut } from './copy-out.ts';
import type { IdHashes } from './id-hashes.ts';

/** Where a CSV file keeps what; -1 for a column it lacks. */
export interface CsvColumns {
  delimiter: string;
  width: number;
  id: number;
  mobile: number;
  email: number;
}

const QUOTE = 34;
const BACKSLASH = 92;
const TAB = 9;
const CR = 13;
const LF = 10;
const PLUS = 43;
const AT = 64;
const DOT = 46;

/** ASCII whitespace (what String#trim and \s match below 128); any byte over 127 counts too. */
const blankOrWide = (c: number) => c === 32 || (c >= 9 && c <= 13) || c >= 128;

/** An id needing no trim and no unescaping, short enough in any unit. */
function plainId(b: Buffer, s: number, e: number): boolean {
  return (
    e > s &&
    e - s <= MAX_VALUE_LENGTH &&
    !blankOrWide(b[s] as number) &&
    !blankOrWide(b[e - 1] as number)
  );
}

/** Empty, or /^\+?\d{6,15}$/ with nothing to trim. */
function plainMobile(b: Buffer, s: number, e: number): boolean {
  if (e === s) return true;
  let i = b[s] === PLUS ? s + 1 : s;
  if (e - i < 6 || e - i > 15) return false;
  for (; i < e; i++) {
    const c = b[i] as number;
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/** Empty, or ASCII /^[^\s@]+@[^\s@]+\.[^\s@]+$/ with nothing to trim. */
function plainEmail(b: Buffer, s: number, e: number): boolean {
  if (e === s) return true;
  if (e - s > MAX_VALUE_LENGTH) return false;
  let at = -1;
  for (let i = s; i < e; i++) {
    const c = b[i] as number;
    if (blankOrWide(c)) return false;
    if (c === AT) {
      if (at !== -1) return false;
      at = i;
    }
  }
  if (at <= s) return false;
  // A dot in the domain with at least one character on each side of it.
  for (let i = at + 2; i < e - 1; i++) if (b[i] === DOT) return true;
  return false;
}

/** Byte classes: what a value's bytes are, as far as the fast path cares. */
const PLAIN = 0;
const DELIMITER = 1;
const QUOTE_BYTE = 2;
const ESCAPED = 3; // backslash, tab, CR: written with a backslash in COPY text
const REFUSED = 4; // NUL: Postgres text cannot hold it; the exact path says so

/**
 * The fast path of the CSV import: one data line (`b[start, end)`, valid UTF-8, no line break)
 * written as a COPY text row `line\tvalue…\n` straight from its bytes, with no string made. It
 * only takes lines it can prove good: the right number of well-quoted values, an id and mobile
 * and email passing their checks as they are, no NUL, nothing that could be over the length
 * limit. For anything else `copy` returns false, having written nothing, and the caller sends
 * the line through the exact path (parse into strings, checkContact), which rejects it with its
 * reason or, for unusual but valid rows (values to trim, quotes spanning lines), stages it.
 */
export class PlainCsvLines {
  private readonly classes = new Uint8Array(256);

  constructor(
    private readonly cols: CsvColumns,
    private readonly ids: IdHashes,
  ) {
    const c = this.classes;
    c[cols.delimiter.charCodeAt(0)] = DELIMITER;
    c[QUOTE] = QUOTE_BYTE;
    c[BACKSLASH] = ESCAPED;
    c[TAB] = ESCAPED;
    c[CR] = ESCAPED;
    c[0] = REFUSED;
  }

  copy(b: Buffer, start: number, end: number, line: number, out: CopyOut): boolean {
    const { cols, classes } = this;
    // Worst case: every byte escaped, plus the line number and a tab per value.
    out.reserve(2 * (end - start) + cols.width + 24);
    const o = out.buf;
    let p = putInt(o, out.pos, line);
    let i = start;
    let col = 0;
    let idStart = 0;
    let idEnd = 0;
    for (;;) {
      o[p++] = TAB;
      let s = i;
      let e: number;
      // Whether the value's bytes in the file are the value (no doubled quote inside).
      let verbatim = true;
      if (i < end && b[i] === QUOTE) {
        s = ++i;
        for (;;) {
          if (i >= end) return false; // the quote closes on a later line, or never
          const c = b[i] as number;
          const k = classes[c];
          if (k === PLAIN || k === DELIMITER) o[p++] = c;
          else if (k === QUOTE_BYTE) {
            if (i + 1 >= end || b[i + 1] !== QUOTE) break;
            o[p++] = QUOTE;
            i += 1;
            verbatim = false;
          } else if (k === ESCAPED) {
            o[p++] = BACKSLASH;
            o[p++] = c === BACKSLASH ? BACKSLASH : c === TAB ? 116 : 114; // \\ \t \r
          } else return false;
          i += 1;
        }
        e = i++;
        if (i < end && classes[b[i] as number] !== DELIMITER) return false;
      } else {
        for (; i < end; i++) {
          const c = b[i] as number;
          const k = classes[c];
          if (k === PLAIN) o[p++] = c;
          else if (k === DELIMITER) break;
          else if (k === ESCAPED) {
            o[p++] = BACKSLASH;
            o[p++] = c === BACKSLASH ? BACKSLASH : c === TAB ? 116 : 114;
          } else return false; // a quote inside an unquoted value, or NUL
        }
        e = i;
      }
      if (col === cols.id) {
        if (!verbatim || !plainId(b, s, e)) return false;
        idStart = s;
        idEnd = e;
      } else if (col === cols.mobile) {
        if (!plainMobile(b, s, e)) return false;
      } else if (col === cols.email) {
        if (!verbatim || !plainEmail(b, s, e)) return false;
      } else if (e - s > MAX_VALUE_LENGTH) return false;
      col += 1;
      if (i >= end) break;
      if (col === cols.width) return false; // more values than the header names
      i += 1; // the delimiter; a value follows it, empty at the end of the line
    }
    if (col !== cols.width) return false;
    o[p++] = LF;
    out.pos = p;
    this.ids.addBytes(b, idStart, idEnd);
    return true;
  }
}
