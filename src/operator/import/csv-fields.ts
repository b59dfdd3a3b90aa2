/** Where a CSV record's parse stands; carried across lines while a quoted value is open. */
export interface CsvFieldState {
  fields: string[];
  /** The value being read (only while `inQuotes`). */
  field: string;
  inQuotes: boolean;
}

/**
 * Parses one line of a CSV record into `state` (RFC 4180). Returns 'done' when the record ends
 * with this line, 'open' when a quoted value continues on the next line (the caller appends
 * '\n' to `state.field` and calls again with that line), or the reason the record is malformed.
 * A quote inside an unquoted value is refused rather than guessed at: it usually means a broken
 * export, and reading on would merge rows.
 */
export function parseCsvFields(text: string, delimiter: string, state: CsvFieldState): string {
  let i = 0;
  for (;;) {
    if (state.inQuotes) {
      const q = text.indexOf('"', i);
      if (q === -1) {
        state.field += text.slice(i);
        return 'open';
      }
      state.field += text.slice(i, q);
      if (text[q + 1] === '"') {
        state.field += '"';
        i = q + 2;
        continue;
      }
      state.inQuotes = false;
      state.fields.push(state.field);
      state.field = '';
      i = q + 1;
      if (i === text.length) return 'done';
      if (text[i] !== delimiter) {
        return `unexpected text after a closing quote in column ${state.fields.length}`;
      }
      i += 1;
      if (i === text.length) {
        state.fields.push('');
        return 'done';
      }
      continue;
    }
    if (text[i] === '"') {
      state.inQuotes = true;
      i += 1;
      continue;
    }
    const d = text.indexOf(delimiter, i);
    const end = d === -1 ? text.length : d;
    const value = text.slice(i, end);
    if (value.includes('"')) {
      return `a quote inside an unquoted value in column ${state.fields.length + 1}`;
    }
    state.fields.push(value);
    if (d === -1) return 'done';
    i = d + 1;
    if (i === text.length) {
      state.fields.push('');
      return 'done';
    }
  }
}
