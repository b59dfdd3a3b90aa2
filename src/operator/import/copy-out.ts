/** Rows are gathered into blocks this big: one stream write per row would cost more than the row. */
const BLOCK_BYTES = 1 << 20;

const TAB = 9;

/** COPY's text format: backslash, tab and line breaks are escaped; everything else is literal. */
export const escapeCopy = (s: string): string =>
  /[\\\t\n\r]/.test(s)
    ? s.replace(/[\\\t\n\r]/g, (c) =>
        c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r',
      )
    : s;

/** Writes `n` (a non-negative integer) in decimal at `pos`; returns the position after it. */
export function putInt(buf: Buffer, pos: number, n: number): number {
  let digits = 1;
  for (let x = n; x >= 10; x = Math.floor(x / 10)) digits += 1;
  let x = n;
  for (let i = pos + digits - 1; i >= pos; i--) {
    buf[i] = 48 + (x % 10);
    x = Math.floor(x / 10);
  }
  return pos + digits;
}

/**
 * COPY text rows written straight into byte blocks. Callers `reserve` room for a row, then write
 * through `buf` and `pos` (the CSV path copies bytes from the file without decoding them) or the
 * helpers, and hand finished blocks to the COPY stream with `take`.
 */
export class CopyOut {
  buf = Buffer.allocUnsafe(BLOCK_BYTES);
  pos = 0;
  private done: Buffer[] = [];

  private rotate(room: number): void {
    if (this.pos > 0) this.done.push(this.buf.subarray(0, this.pos));
    // A new block each time: the stream keeps the old one until it is sent.
    this.buf = Buffer.allocUnsafe(Math.max(BLOCK_BYTES, room));
    this.pos = 0;
  }

  /** Makes room for `bytes` more at `pos` (which may move to a new block). */
  reserve(bytes: number): void {
    if (this.pos + bytes > this.buf.length) this.rotate(bytes);
  }

  /** The start of a row: its line number. */
  line(n: number): void {
    this.reserve(20);
    this.pos = putInt(this.buf, this.pos, n);
  }

  /** A tab, then the value escaped for COPY's text format. */
  field(s: string): void {
    // A UTF-16 unit takes at most 3 bytes in UTF-8; an escaped one (always ASCII) takes 2.
    this.reserve(s.length * 3 + 1);
    this.buf[this.pos++] = TAB;
    this.pos += this.buf.write(escapeCopy(s), this.pos, 'utf8');
  }

  /** A row already in COPY text form, newline included. */
  row(s: string): void {
    this.reserve(s.length * 3);
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }

  /** The end of a row. */
  endRow(): void {
    this.reserve(1);
    this.buf[this.pos++] = 10;
  }

  /** Finished blocks in order; with `all`, the one being filled too. */
  take(all = false): Buffer[] {
    if (all && this.pos > 0) this.rotate(0);
    const done = this.done;
    this.done = [];
    return done;
  }
}
