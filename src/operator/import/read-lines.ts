import { isUtf8 } from 'node:buffer';

/** One physical line of an import file, without its line terminator. */
export interface SourceLine {
  /** 1-based. */
  line: number;
  /** Decoded text; invalid bytes became U+FFFD (see `utf8`). */
  text: string;
  /** False when the line's bytes are not valid UTF-8. */
  utf8: boolean;
  /** The line was longer than the limit: `text` holds its beginning only. */
  oversize: boolean;
}

/** How much of an oversize line is kept, for the report. */
const OVERSIZE_HEAD = 4_096;

/**
 * Splits a byte stream into lines, one batch per chunk read (fewer awaits than one per line).
 * Each line's bytes are checked for UTF-8 on their own, so one badly encoded row is reported
 * instead of corrupting or aborting the import. A line longer than `maxBytes` is cut and flagged
 * rather than buffered whole: a file without newlines cannot exhaust memory.
 */
export async function* readLines(
  source: AsyncIterable<Buffer>,
  maxBytes: number,
): AsyncGenerator<SourceLine[]> {
  let lineNo = 0;
  let parts: Buffer[] = [];
  let partBytes = 0;
  let oversize = false;

  const make = (bytes: Buffer): SourceLine => {
    lineNo += 1;
    const end =
      bytes.length > 0 && bytes[bytes.length - 1] === 13 ? bytes.length - 1 : bytes.length;
    const body = bytes.subarray(0, end);
    // A cut line may end inside a multi-byte character: judge only whole lines.
    const utf8 = oversize || isUtf8(body);
    return { line: lineNo, text: body.toString('utf8'), utf8, oversize };
  };
  const keep = (piece: Buffer) => {
    if (oversize) return;
    if (partBytes + piece.length > maxBytes) {
      oversize = true;
      parts = [Buffer.concat([...parts, piece]).subarray(0, OVERSIZE_HEAD)];
      partBytes = OVERSIZE_HEAD;
      return;
    }
    // Copied: the chunk's memory is not ours to hold after this iteration.
    parts.push(Buffer.from(piece));
    partBytes += piece.length;
  };
  const takePending = (tail: Buffer): Buffer => {
    keep(tail);
    const whole = parts.length === 1 && parts[0] ? parts[0] : Buffer.concat(parts);
    parts = [];
    partBytes = 0;
    return whole;
  };

  for await (const chunk of source) {
    const out: SourceLine[] = [];
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(10, start);
      if (nl === -1) break;
      const piece = chunk.subarray(start, nl);
      if (parts.length > 0 || oversize) {
        out.push(make(takePending(piece)));
        oversize = false;
      } else if (piece.length > maxBytes) {
        oversize = true;
        out.push(make(piece.subarray(0, OVERSIZE_HEAD)));
        oversize = false;
      } else {
        out.push(make(piece));
      }
      start = nl + 1;
    }
    if (start < chunk.length) keep(chunk.subarray(start));
    if (out.length > 0) yield out;
  }
  if (parts.length > 0 || oversize) {
    const last = make(takePending(Buffer.alloc(0)));
    yield [last];
  }
}
