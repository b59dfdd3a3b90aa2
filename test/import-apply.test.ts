import { describe, expect, it } from 'vitest';
import { applyStaged } from '../src/operator/import/apply-staged.ts';
import { importContacts } from '../src/operator/import/import-contacts.ts';
import { csvStaging, STAGING_TABLE } from '../src/operator/import/staging-table.ts';
import { useImportFixture } from './support/import-fixture.ts';

const fx = useImportFixture();

async function waitFor(check: () => Promise<boolean>): Promise<void> {
  for (const started = Date.now(); !(await check());) {
    if (Date.now() - started > 10_000) throw new Error('gave up waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('applying staged contacts', () => {
  it('falls back to the merge when the insert-only attempt meets a contact already stored', async () => {
    await fx.db.query(
      `INSERT INTO contacts (id, mobile, email, attributes)
       VALUES ('ap-1', '34640000001', 'kept@example.com', '{"name": "Old", "city": "Bilbao"}')`,
    );
    const staging = csvStaging({
      delimiter: ',',
      width: 3,
      id: 0,
      mobile: 1,
      email: -1,
      names: ['id', 'mobile', 'name'],
      attributes: [['name', 2]],
    });
    const client = await fx.db.connect();
    let failed: Error | undefined;
    try {
      await client.query('BEGIN');
      await client.query(staging.create);
      await client.query(
        `INSERT INTO ${STAGING_TABLE} VALUES (2, 'ap-1', '34640000009', 'New'), (3, 'ap-2', '', 'Two')`,
      );
      // The probe's sample misses ap-1: the insert-only attempt runs, meets it, and is undone.
      const counts = await applyStaged(client, {
        source: (from) =>
          from === undefined ? staging.source() : `${staging.source()} WHERE false`,
        groupId: 'g',
        maybeDuplicates: false,
        staged: 2,
      });
      await client.query('COMMIT');
      expect(counts).toEqual({ distinctIds: 2, inserted: 1, updated: 1, membersAdded: 2 });
    } catch (err) {
      failed = err as Error;
      throw err;
    } finally {
      client.release(failed);
    }
    expect(await fx.contact('ap-1')).toEqual({
      mobile: '34640000009',
      email: 'kept@example.com',
      attributes: { name: 'New', city: 'Bilbao' },
    });
    expect(await fx.contact('ap-2')).toEqual({
      mobile: null,
      email: null,
      attributes: { name: 'Two' },
    });
  });

  it('stays right when another writer inserts one of the contacts meanwhile', async () => {
    const file = await fx.fileOf(
      'race.csv',
      'id,mobile,name\nrace-1,34650000001,One\nrace-2,34650000002,Two\n',
    );
    const other = await fx.db.connect();
    let failed: Error | undefined;
    try {
      await other.query('BEGIN');
      await other.query(
        `INSERT INTO contacts (id, email, attributes) VALUES ('race-2', 'theirs@example.com', '{"city": "Vigo"}')`,
      );
      const importing = importContacts({ pool: fx.db }, { file });
      // The import's INSERT waits on the other writer's row; that writer then commits.
      await waitFor(async () => {
        const waiting = await fx.db.query(
          `SELECT 1 FROM pg_stat_activity
           WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%INSERT INTO contacts%'`,
        );
        return (waiting.rowCount ?? 0) > 0;
      });
      await other.query('COMMIT');
      expect(await importing).toMatchObject({ inserted: 1, updated: 1, unchanged: 0 });
    } catch (err) {
      failed = err as Error;
      throw err;
    } finally {
      other.release(failed);
    }
    expect(await fx.contact('race-2')).toEqual({
      mobile: '34650000002',
      email: 'theirs@example.com',
      attributes: { city: 'Vigo', name: 'Two' },
    });
  });

  it('inserts again a contact deleted by another writer while the merge waited on it', async () => {
    await fx.db.query(`INSERT INTO contacts (id, mobile) VALUES ('gone-1', '34660000001')`);
    const file = await fx.fileOf('gone.csv', 'id,mobile\ngone-1,34660000009\ngone-2,34660000002\n');
    const other = await fx.db.connect();
    let failed: Error | undefined;
    try {
      await other.query('BEGIN');
      await other.query(`DELETE FROM contacts WHERE id = 'gone-1'`);
      const importing = importContacts({ pool: fx.db }, { file });
      // The merge's UPDATE waits on the deleted row; once the delete commits it finds nothing.
      await waitFor(async () => {
        const waiting = await fx.db.query(
          `SELECT 1 FROM pg_stat_activity
           WHERE datname = current_database() AND wait_event_type = 'Lock'
             AND query LIKE '%afilnet_import_staging%'`,
        );
        return (waiting.rowCount ?? 0) > 0;
      });
      await other.query('COMMIT');
      expect(await importing).toMatchObject({ inserted: 2, updated: 0 });
    } catch (err) {
      failed = err as Error;
      throw err;
    } finally {
      other.release(failed);
    }
    expect((await fx.contact('gone-1'))?.mobile).toBe('34660000009');
  });
});

describe('values on their way through the fast path', () => {
  it('stores backslashes, tabs and \\N as written, and no emptied attribute on a new contact', async () => {
    const file = await fx.fileOf('raw.csv', 'id,name,city,note\nrt-1,C:\\new\\N,,"a\tb"\n');
    expect(await importContacts({ pool: fx.db }, { file })).toMatchObject({ inserted: 1 });
    expect(await fx.contact('rt-1')).toEqual({
      mobile: null,
      email: null,
      attributes: { name: 'C:\\new\\N', note: 'a\tb' },
    });
  });

  it('lets the last NDJSON row of an id win', async () => {
    const file = await fx.fileOf(
      'dups.ndjson',
      '{"id":"nd-dup","name":"First"}\n{"id":"nd-other"}\n{"id":"nd-dup","name":"Last"}\n',
    );
    expect(await importContacts({ pool: fx.db }, { file })).toMatchObject({
      read: 3,
      inserted: 2,
      duplicates: 1,
    });
    expect((await fx.contact('nd-dup'))?.attributes).toEqual({ name: 'Last' });
  });
});
