import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { RemoteContact } from '../afilnet/index.ts';

/** What to stage, and what to call as contacts arrive. */
export interface StageTarget {
  mainField: string;
  /** The fields compared: each contact is staged with these only, empty values left out. */
  fields: readonly string[];
  /** Called with the running count every `PROGRESS_EVERY` contacts; awaited (backpressure). */
  onRead?: (read: number) => Promise<void>;
}

const CHUNK_CHARS = 64 * 1024;
const PROGRESS_EVERY = 25_000;

/** COPY's text format: backslash, tab, newline and carriage return are escaped. */
function copyText(value: string): string {
  return /[\\\t\n\r]/.test(value)
    ? value.replace(/[\\\t\n\r]/g, (c) =>
        c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r',
      )
    : value;
}

/**
 * A contact's values over the compared fields, as the database's projection has them: empty =
 * absent. Postgres text refuses NUL, so a value holding one is staged without it (and so shows
 * as modified).
 */
function project(fields: Record<string, string>, names: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of names) {
    const value = fields[name];
    if (value === undefined || value === '') continue;
    out[name] = value.includes('\0') ? value.replaceAll('\0', '') : value;
  }
  return out;
}

/**
 * The contacts as COPY lines, joined into chunks of about 64 KiB: one write per chunk rather than
 * per contact. Pulled by the COPY stream, so a slow database slows the read of the answer too and
 * nothing piles up in memory. JSON text never holds a raw tab or newline, so only its
 * backslashes need doubling.
 */
async function* copyLines(
  contacts: AsyncIterable<RemoteContact>,
  target: StageTarget,
  counter: { read: number },
): AsyncGenerator<string, void, undefined> {
  let chunk = '';
  for await (const contact of contacts) {
    const fields = project(contact.fields, target.fields);
    const main = fields[target.mainField];
    const json = JSON.stringify(fields);
    chunk += `${copyText(contact.idcontact)}\t${main ? copyText(main) : '\\N'}\t${json.replaceAll('\\', '\\\\')}\n`;
    counter.read += 1;
    if (chunk.length >= CHUNK_CHARS) {
      yield chunk;
      chunk = '';
    }
    if (counter.read % PROGRESS_EVERY === 0) await target.onRead?.(counter.read);
  }
  if (chunk !== '') yield chunk;
}

/**
 * Streams a remote group's contacts with COPY into `resync_remote`, a temporary table of the
 * transaction `client` is in: private to the session (so concurrent resyncs of other groups
 * never wait on one another, and it can be ANALYZEd), never WAL-logged, and dropped at the
 * transaction's end whatever happens. A failed read (to be retried by the caller) rolls back to
 * a savepoint, so a retry starts from an empty table. Returns how many contacts were staged.
 */
export async function stageRemoteContacts(
  client: pg.PoolClient,
  contacts: AsyncIterable<RemoteContact>,
  target: StageTarget,
): Promise<number> {
  const counter = { read: 0 };
  await client.query(
    'CREATE TEMP TABLE IF NOT EXISTS resync_remote (idcontact text NOT NULL, main text, fields jsonb NOT NULL) ON COMMIT DROP',
  );
  await client.query('SAVEPOINT resync_stage');
  try {
    const copy = client.query(copyFrom('COPY resync_remote (idcontact, main, fields) FROM STDIN'));
    await pipeline(Readable.from(copyLines(contacts, target, counter)), copy);
  } catch (err) {
    await client.query('ROLLBACK TO SAVEPOINT resync_stage');
    throw err;
  }
  await client.query('RELEASE SAVEPOINT resync_stage');
  await target.onRead?.(counter.read);
  return counter.read;
}
