import type { RemoteContact } from '../afilnet/index.ts';

/** What to write of each remote contact. */
export interface CopyShape {
  mainField: string;
  /** The fields compared: each contact is written with these only, empty values left out. */
  fields: readonly string[];
  /** Columns written before each contact's own (already in COPY text form), e.g. a group id. */
  leading?: readonly string[];
  /** Called with the running count every `PROGRESS_EVERY` contacts; awaited (backpressure). */
  onRead?: (read: number) => Promise<void>;
}

const CHUNK_CHARS = 64 * 1024;
const PROGRESS_EVERY = 25_000;

/** COPY's text format: backslash, tab, newline and carriage return are escaped. */
export function copyText(value: string): string {
  return /[\\\t\n\r]/.test(value)
    ? value.replace(/[\\\t\n\r]/g, (c) =>
        c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r',
      )
    : value;
}

/**
 * A contact's values over the compared fields, as the database's projection has them: empty =
 * absent. Postgres text refuses NUL, so a value holding one is written without it (and so shows
 * as modified).
 */
export function projectRemote(
  fields: Record<string, string>,
  names: readonly string[],
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of names) {
    const value = fields[name];
    if (value === undefined || value === '') continue;
    out[name] = value.includes('\0') ? value.replaceAll('\0', '') : value;
  }
  return out;
}

/**
 * Remote contacts as COPY lines `[leading…]\tidcontact\tmain\tfields-json`, joined into chunks of
 * about 64 KiB: one write per chunk rather than per contact. Pulled by the COPY stream, so a slow
 * database slows the read of the answer too and nothing piles up in memory. JSON text never holds
 * a raw tab or newline, so only its backslashes need doubling.
 */
export async function* copyContactLines(
  contacts: AsyncIterable<RemoteContact>,
  shape: CopyShape,
  counter: { read: number },
): AsyncGenerator<string, void, undefined> {
  const lead = shape.leading && shape.leading.length > 0 ? `${shape.leading.join('\t')}\t` : '';
  let chunk = '';
  for await (const contact of contacts) {
    const fields = projectRemote(contact.fields, shape.fields);
    const main = fields[shape.mainField];
    const json = JSON.stringify(fields);
    chunk += `${lead}${copyText(contact.idcontact)}\t${main ? copyText(main) : '\\N'}\t${json.replaceAll('\\', '\\\\')}\n`;
    counter.read += 1;
    if (chunk.length >= CHUNK_CHARS) {
      yield chunk;
      chunk = '';
    }
    if (counter.read % PROGRESS_EVERY === 0) await shape.onRead?.(counter.read);
  }
  if (chunk !== '') yield chunk;
}
