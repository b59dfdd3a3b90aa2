import type { ContactInput } from './contact-record.ts';

/** One row read from an import file: what to check, or why it could not even be read. */
export type SourceRecord =
  | { line: number; raw: string; input: ContactInput }
  | { line: number; raw: string; reason: string };

/** The file as a whole cannot be imported (unreadable, unknown format, bad CSV header). */
export class ImportFileError extends Error {
  override name = 'ImportFileError';
}

/** Longest line or record accepted; anything longer is reported, never buffered whole. */
export const MAX_RECORD_BYTES = 1_000_000;
