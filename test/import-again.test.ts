import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importContacts } from '../src/operator/import/import-contacts.ts';
import { ImportFileError } from '../src/operator/import/source-record.ts';
import { UnknownGroupError } from '../src/operator/unknown-group.ts';
import { useImportFixture } from './support/import-fixture.ts';

const fx = useImportFixture();

describe('importing again', () => {
  const csv =
    'id,mobile,email,name,city\n' +
    Array.from(
      { length: 50 },
      (_, i) => `re-${i},3462${String(i).padStart(7, '0')},,Name ${i},"Town, ${i}"`,
    ).join('\n') +
    '\n';

  it('writes no row version, takes no row lock and captures nothing when the file is unchanged', async () => {
    const file = await fx.fileOf('again.csv', csv);
    const first = await importContacts({ pool: fx.db }, { file, groupId: 'g' });
    expect(first).toMatchObject({ inserted: 50, membersAdded: 50 });
    const outbox = await fx.outboxRows();
    // xmin changes with any UPDATE (even one the triggers would skip), xmax with a row lock.
    const versions = `SELECT id, xmin::text AS xmin, xmax::text AS xmax FROM contacts WHERE id LIKE 're-%' ORDER BY id`;
    const before = (await fx.db.query(versions)).rows;
    const second = await importContacts({ pool: fx.db }, { file, groupId: 'g' });
    expect(second).toMatchObject({
      read: 50,
      imported: 0,
      unchanged: 50,
      membersAdded: 0,
      rejected: 0,
    });
    expect(await fx.outboxRows()).toBe(outbox);
    expect((await fx.db.query(versions)).rows).toEqual(before);
  });

  it('updates only the rows that differ, and the capture sees only those', async () => {
    const changed = csv.replace('Name 7,', 'Renamed 7,');
    const outbox = await fx.outboxRows();
    const summary = await importContacts(
      { pool: fx.db },
      { file: await fx.fileOf('changed.csv', changed), groupId: 'g' },
    );
    expect(summary).toMatchObject({ updated: 1, unchanged: 49 });
    expect(await fx.outboxRows()).toBe(outbox + 1);
    expect((await fx.contact('re-7'))?.attributes).toEqual({ name: 'Renamed 7', city: 'Town, 7' });
  });

  it('keeps columns the file lacks, clears emptied ones, and lets the last row of an id win', async () => {
    await fx.db.query(`UPDATE contacts SET email = 'kept@example.com' WHERE id = 're-1'`);
    const file = await fx.fileOf(
      'partial.csv',
      'id,mobile,city\nre-1,34629999999,\nre-2,34620000002,First\nre-2,34620000002,Last\n',
    );
    const summary = await importContacts({ pool: fx.db }, { file });
    expect(summary).toMatchObject({ read: 3, duplicates: 1, updated: 2 });
    expect(await fx.contact('re-1')).toEqual({
      mobile: '34629999999',
      email: 'kept@example.com',
      attributes: { name: 'Name 1' },
    });
    expect((await fx.contact('re-2'))?.attributes).toEqual({ name: 'Name 2', city: 'Last' });
  });
});

describe('unusual attribute names', () => {
  it('keeps a column named __proto__ as a plain attribute, in CSV and NDJSON', async () => {
    const csv = await fx.fileOf('proto.csv', 'id,__proto__\nproto-1,csv value\n');
    const ndjson = await fx.fileOf('proto.ndjson', '{"id":"proto-2","__proto__":"json value"}\n');
    expect((await importContacts({ pool: fx.db }, { file: csv })).imported).toBe(1);
    expect((await importContacts({ pool: fx.db }, { file: ndjson })).imported).toBe(1);
    const rows = await fx.db.query<{ id: string; value: string }>(
      `SELECT id, attributes->>'__proto__' AS value FROM contacts WHERE id LIKE 'proto-%' ORDER BY id`,
    );
    expect(rows.rows).toEqual([
      { id: 'proto-1', value: 'csv value' },
      { id: 'proto-2', value: 'json value' },
    ]);
  });
});

describe('refusing a file or group as a whole', () => {
  it('writes nothing for a CSV whose header has no id column', async () => {
    const file = await fx.fileOf('noid.csv', 'mobile,name\n34630000001,Nobody\n');
    await expect(importContacts({ pool: fx.db }, { file })).rejects.toThrow(ImportFileError);
    await expect(importContacts({ pool: fx.db }, { file })).rejects.toThrow(/no "id" column/);
    expect(
      (await fx.db.query(`SELECT 1 FROM contacts WHERE mobile = '34630000001'`)).rowCount,
    ).toBe(0);
  });

  it('writes nothing when the group does not exist', async () => {
    const file = await fx.fileOf('nogroup.csv', 'id,mobile\nng-1,34630000002\n');
    await expect(importContacts({ pool: fx.db }, { file, groupId: 'missing' })).rejects.toThrow(
      UnknownGroupError,
    );
    expect(await fx.contact('ng-1')).toBeNull();
  });

  it('names a file that cannot be read, and one whose format it cannot tell', async () => {
    await expect(
      importContacts({ pool: fx.db }, { file: join(fx.dir, 'absent.csv') }),
    ).rejects.toThrow(/cannot read .*ENOENT/);
    await expect(
      importContacts({ pool: fx.db }, { file: await fx.fileOf('data.txt', 'id\n') }),
    ).rejects.toThrow(/cannot tell the format/);
  });

  it('refuses a report path it cannot write, or one that would overwrite the file itself', async () => {
    const file = await fx.fileOf('report.csv', 'id,mobile\nrp-1,34630000003\n');
    await expect(
      importContacts(
        { pool: fx.db },
        { file, reportPath: join(fx.dir, 'no-such-dir', 'r.ndjson') },
      ),
    ).rejects.toThrow(/ENOENT/);
    await expect(importContacts({ pool: fx.db }, { file, reportPath: file })).rejects.toThrow(
      /the report path is the file being imported/,
    );
    expect(await fx.contact('rp-1')).toBeNull();
    // The pool is still usable: the failed imports gave their connections back.
    expect((await importContacts({ pool: fx.db }, { file })).imported).toBe(1);
  });
});
