/**
 * A contact's values by column index, packed for memory: normally one string with the values
 * joined by NUL (one heap object instead of an array plus a string per value — this is what lets
 * a million contacts fit in a few hundred MiB). A row whose values themselves hold a NUL stays a
 * plain array, so no value is ever altered.
 */
export type PackedRow = string | readonly string[];

const SEPARATOR = '\u0000';

/** Packs a row's values (index = column index). */
export function packRow(cells: readonly string[]): PackedRow {
  return cells.some((cell) => cell.includes(SEPARATOR)) ? [...cells] : cells.join(SEPARATOR);
}

/** Unpacks a row into a fresh array the caller may change. */
export function unpackRow(row: PackedRow): string[] {
  return typeof row === 'string' ? row.split(SEPARATOR) : [...row];
}
