/**
 * A stored value. Values sent through the API are always strings; the panel routes under
 * /__emulator/ may plant any JSON value (number, boolean, null, even an object or array), which
 * is kept and answered as that JSON type, as a loosely typed provider might.
 */
export type CellValue =
  string | number | boolean | null | CellValue[] | { [key: string]: CellValue };

/**
 * A contact's values by column index, packed for memory: normally one string with the values
 * joined by NUL (one heap object instead of an array plus a string per value — this is what lets
 * a million contacts fit in a few hundred MiB). A row whose values hold a NUL, or a value that is
 * not a string, stays a plain array, so no value is ever altered.
 */
export type PackedRow = string | readonly CellValue[];

const SEPARATOR = '\u0000';

/** Packs a row's values (index = column index). */
export function packRow(cells: readonly CellValue[]): PackedRow {
  return joinable(cells) ? cells.join(SEPARATOR) : [...cells];
}

function joinable(cells: readonly CellValue[]): cells is readonly string[] {
  return cells.every((cell) => typeof cell === 'string' && !cell.includes(SEPARATOR));
}

/** Unpacks a row into a fresh array the caller may change. */
export function unpackRow(row: PackedRow): CellValue[] {
  return typeof row === 'string' ? row.split(SEPARATOR) : [...row];
}

/**
 * A value as the main-field index sees it: API values are strings already; a planted number or
 * boolean counts as its JSON text and null as empty, so `addcontact` of "346…" finds a planted
 * 346… number.
 */
export function cellText(cell: CellValue | undefined): string {
  if (cell === undefined || cell === null) return '';
  return typeof cell === 'string' ? cell : JSON.stringify(cell);
}
