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

/**
 * Whole lines of an import file, undecoded: `bytes` holds one or more lines joined by '\n' (the
 * last without one; an empty `bytes` is one empty line), `utf8` says all of it is valid UTF-8.
 * `cut` is the beginning of a line longer than the limit, whose rest was never buffered. Lines
 * are numbered by counting: one per '\n' in `bytes` plus one, one per `cut`.
 */
export type LineBlock = { bytes: Buffer; utf8: boolean } | { cut: Buffer };

/** How much of an oversize line is kept, for the report. */
const OVERSIZE_HEAD = 4_096;
const LF = 10;
const CR = 13;

/** The end of a line once a '\r' before its '\n' is dropped. */
export const endWithoutCr = (bytes: Buffer, start: number, end: number): number =>
  end > start && bytes[end - 1] === CR ? end - 1 : end;

/** A line longer than the limit, from its first bytes. */
export const oversizeLine = (line: number, head: Buffer): SourceLine => ({
  line,
  text: head.subarray(0, OVERSIZE_HEAD).toString('utf8'),
  utf8: true,
  oversize: true,
});

/**
 * One line of a block as text. Judged by bytes: a line over `maxBytes` is oversize, whatever
 * the chunk it arrived in. `utf8` is the block's verdict when it is a valid one.
 */
export function decodeLine(
  bytes: Buffer,
  start: number,
  end: number,
  line: number,
  blockUtf8: boolean,
  maxBytes: number,
): SourceLine {
  if (end - start > maxBytes) return oversizeLine(line, bytes.subarray(start, end));
  const stop = endWithoutCr(bytes, start, end);
  return {
    line,
    text: bytes.toString('utf8', start, stop),
    utf8: blockUtf8 || isUtf8(bytes.subarray(start, end)),
    oversize: false,
  };
}

/**
 * Splits a byte stream into blocks of whole lines, one per chunk read (the chunk's complete
 * lines, with the end of a line the previous chunk began). Nothing is decoded here: the CSV path
 * reads most lines straight from the bytes. UTF-8 is judged once per block, and line by line
 * only in a block that fails, so one badly encoded row is reported rather than corrupting the
 * import. A line longer than `maxBytes` across chunks is cut and flagged rather than buffered
 * whole: a file without newlines cannot exhaust memory.
 */
export async function* readLineBlocks(
  source: AsyncIterable<Buffer>,
  maxBytes: number,
): AsyncGenerator<LineBlock> {
  // The start of a line whose end has not been read yet, or the head of one already too long.
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let cut: Buffer | null = null;

  const hold = (piece: Buffer) => {
    if (cut !== null) return;
    if (pendingBytes + piece.length > maxBytes) {
      cut = Buffer.concat(
        [...pending, piece],
        Math.min(OVERSIZE_HEAD, pendingBytes + piece.length),
      );
      pending = [];
      pendingBytes = 0;
      return;
    }
    // Copied: the chunk's memory is not ours to keep after this iteration.
    pending.push(Buffer.from(piece));
    pendingBytes += piece.length;
  };

  for await (const chunk of source) {
    const last = chunk.lastIndexOf(LF);
    if (last === -1) {
      hold(chunk);
      continue;
    }
    let bytes: Buffer | null;
    if (cut !== null) {
      yield { cut };
      cut = null;
      const first = chunk.indexOf(LF);
      bytes = first < last ? chunk.subarray(first + 1, last) : null;
    } else if (pending.length > 0) {
      bytes = Buffer.concat([...pending, chunk.subarray(0, last)]);
      pending = [];
      pendingBytes = 0;
    } else {
      bytes = chunk.subarray(0, last);
    }
    if (bytes !== null) yield { bytes, utf8: isUtf8(bytes) };
    if (last + 1 < chunk.length) hold(chunk.subarray(last + 1));
  }
  if (cut !== null) yield { cut };
  else if (pending.length > 0) {
    const bytes = Buffer.concat(pending);
    yield { bytes, utf8: isUtf8(bytes) };
  }
}

/** Decodes a block's lines, numbering them from `firstLine`. */
export function blockLines(block: LineBlock, firstLine: number, maxBytes: number): SourceLine[] {
  if ('cut' in block) return [oversizeLine(firstLine, block.cut)];
  const { bytes, utf8 } = block;
  const out: SourceLine[] = [];
  let line = firstLine;
  // Valid blocks of short lines (the usual case) are decoded in one go.
  if (utf8 && bytes.length <= maxBytes) {
    for (const text of bytes.toString('utf8').split('\n')) {
      const stop = text.length > 0 && text.charCodeAt(text.length - 1) === CR;
      out.push({
        line: line++,
        text: stop ? text.slice(0, -1) : text,
        utf8: true,
        oversize: false,
      });
    }
    return out;
  }
  for (let start = 0; ;) {
    const nl = bytes.indexOf(LF, start);
    const end = nl === -1 ? bytes.length : nl;
    out.push(decodeLine(bytes, start, end, line++, utf8, maxBytes));
    if (nl === -1) return out;
    start = nl + 1;
  }
}

/** Lines of a byte stream in batches, decoded (see readLineBlocks). */
export async function* readLines(
  source: AsyncIterable<Buffer>,
  maxBytes: number,
): AsyncGenerator<SourceLine[]> {
  let next = 1;
  for await (const block of readLineBlocks(source, maxBytes)) {
    const lines = blockLines(block, next, maxBytes);
    next += lines.length;
    yield lines;
  }
}
