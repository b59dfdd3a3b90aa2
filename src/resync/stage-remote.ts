import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { RemoteContact } from '../afilnet/index.ts';
import { copyContactLines, type CopyShape } from '../db/copy-contact-lines.ts';

/** What to stage, and what to call as contacts arrive. */
export type StageTarget = CopyShape;

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
    await pipeline(Readable.from(copyContactLines(contacts, target, counter)), copy);
  } catch (err) {
    await client.query('ROLLBACK TO SAVEPOINT resync_stage');
    throw err;
  }
  await client.query('RELEASE SAVEPOINT resync_stage');
  await target.onRead?.(counter.read);
  return counter.read;
}
