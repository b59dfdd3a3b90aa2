import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { RemoteContact } from '../afilnet/index.ts';

/** Where staged contacts go, and what to call as they arrive. */
export interface StageTarget {
  runId: string;
  groupId: string;
  mainField: string;
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

/** Postgres text refuses NUL: such values are staged without it (and so show as modified). */
function withoutNul(fields: Record<string, string>): Record<string, string> {
  if (!Object.values(fields).some((v) => v.includes('\0'))) return fields;
  return Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, v.replaceAll('\0', '')]));
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
  const prefix = `${target.runId}\t${copyText(target.groupId)}\t`;
  let chunk = '';
  for await (const contact of contacts) {
    const fields = withoutNul(contact.fields);
    const main = fields[target.mainField];
    const json = JSON.stringify(fields);
    chunk += `${prefix}${copyText(contact.idcontact)}\t${main ? copyText(main) : '\\N'}\t${json.replaceAll('\\', '\\\\')}\n`;
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
 * Streams a remote group's contacts into `sync_resync_remote` with COPY, on `client`, which must
 * be inside a transaction: the rows stay invisible to every other session and vanish with a
 * rollback. A failed read (to be retried by the caller) rolls back to a savepoint, so a retry
 * starts from an empty stage. Returns how many contacts were staged.
 */
export async function stageRemoteContacts(
  client: pg.PoolClient,
  contacts: AsyncIterable<RemoteContact>,
  target: StageTarget,
): Promise<number> {
  const counter = { read: 0 };
  await client.query('SAVEPOINT resync_stage');
  try {
    const copy = client.query(
      copyFrom('COPY sync_resync_remote (run_id, group_id, idcontact, main, fields) FROM STDIN'),
    );
    await pipeline(Readable.from(copyLines(contacts, target, counter)), copy);
  } catch (err) {
    await client.query('ROLLBACK TO SAVEPOINT resync_stage');
    throw err;
  }
  await client.query('RELEASE SAVEPOINT resync_stage');
  await target.onRead?.(counter.read);
  return counter.read;
}
