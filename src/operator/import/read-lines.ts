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

const stripCr = (text: string): string =>
  text.length > 0 && text.charCodeAt(text.length - 1) === 13 ? text.slice(0, -1) : text;

/**
 * Splits a byte stream into lines, one batch per chunk read (fewer awaits than one per line).
 * UTF-8 is judged per line, so one badly encoded row is reported instead of corrupting or
 * aborting the import; when a chunk's complete lines are all valid (the usual case) they are
 * decoded in one go. A line longer than `maxBytes` is cut and flagged rather than buffered whole:
 * a file without newlines cannot exhaust memory.
 */
export async function* readLines(
  source: AsyncIterable<Buffer>,
  maxBytes: number,
): AsyncGenerator<SourceLine[]> {
  let lineNo = 0;
  // The start of a line whose end has not been read yet.
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let oversize = false;

  const one = (bytes: Buffer, cut: boolean): SourceLine => {
    lineNo += 1;
    // A cut line may end inside a multi-byte character: judge only whole lines.
    const utf8 = cut || isUtf8(bytes);
    return { line: lineNo, text: stripCr(bytes.toString('utf8')), utf8, oversize: cut };
  };
  const hold = (piece: Buffer) => {
    if (oversize) return;
    if (pendingBytes + piece.length > maxBytes) {
      oversize = true;
      pending = [Buffer.concat([...pending, piece]).subarray(0, OVERSIZE_HEAD)];
      return;
    }
    // Copied: the chunk's memory is not ours to keep after this iteration.
    pending.push(Buffer.from(piece));
    pendingBytes += piece.length;
  };
  const takePending = (): SourceLine => {
    const line = one(Buffer.concat(pending), oversize);
    pending = [];
    pendingBytes = 0;
    oversize = false;
    return line;
  };
  const lines = (region: Buffer, out: SourceLine[]) => {
    if (isUtf8(region)) {
      for (const text of region.toString('utf8').split('\n')) {
        lineNo += 1;
        const cut = text.length > maxBytes;
        out.push({
          line: lineNo,
          text: cut ? text.slice(0, OVERSIZE_HEAD) : stripCr(text),
          utf8: true,
          oversize: cut,
        });
      }
      return;
    }
    for (let start = 0; ;) {
      const nl = region.indexOf(10, start);
      const end = nl === -1 ? region.length : nl;
      const piece = region.subarray(start, end);
      out.push(
        one(
          piece.length > maxBytes ? piece.subarray(0, OVERSIZE_HEAD) : piece,
          piece.length > maxBytes,
        ),
      );
      if (nl === -1) return;
      start = nl + 1;
    }
  };

  for await (const chunk of source) {
    const last = chunk.lastIndexOf(10);
    if (last === -1) {
      hold(chunk);
      continue;
    }
    const out: SourceLine[] = [];
    const first = chunk.indexOf(10);
    if (pending.length > 0 || oversize) {
      hold(chunk.subarray(0, first));
      out.push(takePending());
      if (first < last) lines(chunk.subarray(first + 1, last), out);
    } else {
      lines(chunk.subarray(0, last), out);
    }
    if (last + 1 < chunk.length) hold(chunk.subarray(last + 1));
    yield out;
  }
  if (pending.length > 0 || oversize) yield [takePending()];
}
