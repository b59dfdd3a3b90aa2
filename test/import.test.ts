import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importContacts, type ImportSummary } from '../src/operator/import/import-contacts.ts';
import { ImportFileError } from '../src/operator/import/source-record.ts';
import { UnknownGroupError } from '../src/operator/unknown-group.ts';
import { createTestDatabase } from './support/stores.ts';

let db: pg.Pool;
let drop: () => Promise<void>;
let dir: string;

beforeAll(async () => {
  const database = await createTestDatabase();
  drop = database.drop;
  db = new pg.Pool({ connectionString: database.url, max: 4 });
  dir = await mkdtemp(join(tmpdir(), 'afilnet-import-'));
  await db.query(`INSERT INTO groups (id, name, type, fields) VALUES ('g', 'Imported', 'mobile', '{mobile,name}')`);
});
afterAll(async () => {
  await db?.end();
  await drop?.();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function fileOf(name: string, content: string | Buffer): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, content);
  return path;
}

async function reportOf(summary: ImportSummary): Promise<{ line: number; reason: string; raw: string }[]> {
  const text = await readFile(summary.reportPath, 'utf8');
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { line: number; reason: string; raw: string });
}

async function contact(id: string) {
  const res = await db.query<{ mobile: string | null; email: string | null; attributes: Record<string, unknown> }>(
    'SELECT mobile, email, attributes FROM contacts WHERE id = $1',
    [id],
  );
  return res.rows[0] ?? null;
}

const outboxRows = async () =>
  Number((await db.query<{ n: string }>('SELECT count(*) AS n FROM sync_outbox')).rows[0]?.n);

describe('importing a CSV with good and bad rows', () => {
  const latin1 = Buffer.from('csv-latin1,34600000006,,Caf\xe9\n', 'latin1');
  const csv = Buffer.concat([
    Buffer.from(
      '\uFEFFid,mobile,email,name\n' + // line 1
        'csv-1,+34600000001,one@example.com,"Smith, John"\n' + // 2: quoted comma
        'csv-2,34600000002,,"Say ""hi"""\n' + // 3: doubled quotes
        ',34600000003,,No id\n' + // 4: missing id
        'csv-4,12ab5678,,Bad mobile\n' + // 5: malformed mobile
        'csv-5,34600000005,,"two\nlines"\n' + // 6-7: a value over two lines
        '\n', // 8: blank, skipped
    ),
    latin1, // 9: not UTF-8
    Buffer.from(
      'csv-7,34600000007,only three\n' + // 10: wrong column count
        'csv-8,34600000008,not-an-email,Eight\n' + // 11: malformed email
        `csv-9,34600000009,,${'x'.repeat(1001)}\n` + // 12: oversize
        'csv-10,34600000010,,"unclosed\n' + // 13: quote never closed
        'csv-11,34600000011,,Eleven\n', // 14: read again after the broken quote
    ),
  ]);
  let summary: ImportSummary;

  beforeAll(async () => {
    summary = await importContacts({ pool: db }, { file: await fileOf('contacts.csv', csv) });
  });

  it('imports every good row with its attributes, quoted commas and line breaks included', async () => {
    expect(await contact('csv-1')).toEqual({
      mobile: '+34600000001',
      email: 'one@example.com',
      attributes: { name: 'Smith, John' },
    });
    expect((await contact('csv-2'))?.attributes).toEqual({ name: 'Say "hi"' });
    expect((await contact('csv-5'))?.attributes).toEqual({ name: 'two\nlines' });
    expect(await contact('csv-11')).toEqual({ mobile: '34600000011', email: null, attributes: { name: 'Eleven' } });
    expect(summary).toMatchObject({ read: 11, imported: 4, inserted: 4, rejected: 7, unchanged: 0 });
  });

  it('reports every bad row with its line number and reason, and no good one', async () => {
    const rejects = await reportOf(summary);
    expect(rejects.map((r) => [r.line, r.reason])).toEqual([
      [4, 'missing id'],
      [5, 'mobile: not 6 to 15 digits with an optional leading +'],
      [9, 'not valid UTF-8'],
      [10, 'expected 4 columns, found 3'],
      [11, 'email: does not look like an e-mail address'],
      [12, 'name: longer than 1000 characters'],
      [13, 'unclosed quote (or a record over 1 MB)'],
    ]);
    expect(rejects[1]?.raw).toBe('csv-4,12ab5678,,Bad mobile');
    expect(rejects[2]?.raw).toContain('csv-latin1');
    expect(rejects.find((r) => r.line === 12)?.raw.length).toBeLessThanOrEqual(501);
    expect(await contact('csv-latin1')).toBeNull();
  });
});

describe('importing NDJSON with good and bad rows', () => {
  const lines = [
    JSON.stringify({ id: 'nd-1', mobile: '34610000001', name: 'Ann', attributes: { city: 'Madrid, Spain', name: 'overridden' } }),
    JSON.stringify({ id: 'nd-2', mobile: 34610000002, email: 'two@example.com', vip: true, score: 7 }),
    JSON.stringify({ mobile: '34610000003' }),
    JSON.stringify({ id: 'nd-4', mobile: '+34 610' }),
    JSON.stringify({ id: 'nd-5', mobile: { number: '34610000005' } }),
    JSON.stringify({ id: 'nd-6', attributes: ['not', 'an', 'object'] }),
    JSON.stringify({ id: 'nd-7', nested: { deep: 1 } }),
    '{"id": "nd-8", broken',
    '["an", "array"]',
    '',
  ];
  const body = Buffer.concat([
    Buffer.from(lines.join('\n') + '\n'),
    Buffer.from('{"id":"nd-latin1","name":"Jos\xe9"}\n', 'latin1'),
    Buffer.from(JSON.stringify({ id: 'nd-12', mobile: '34610000012' })), // no final newline
  ]);
  let summary: ImportSummary;

  beforeAll(async () => {
    summary = await importContacts({ pool: db }, { file: await fileOf('contacts.ndjson', body) });
  });

  it('imports good rows, merging the attributes object with the other keys', async () => {
    expect(await contact('nd-1')).toEqual({
      mobile: '34610000001',
      email: null,
      attributes: { name: 'Ann', city: 'Madrid, Spain' },
    });
    expect(await contact('nd-2')).toEqual({
      mobile: '34610000002',
      email: 'two@example.com',
      attributes: { vip: true, score: 7 },
    });
    expect((await contact('nd-12'))?.mobile).toBe('34610000012');
    expect(summary).toMatchObject({ read: 11, imported: 3, rejected: 8 });
  });

  it('reports wrong types, bad JSON and non-UTF-8 lines by line number', async () => {
    const rejects = await reportOf(summary);
    expect(rejects.map((r) => [r.line, r.reason.replace(/ \(.*\)$/, '')])).toEqual([
      [3, 'missing id'],
      [4, 'mobile: not 6 to 15 digits with an optional leading +'],
      [5, 'mobile: must be a string'],
      [6, 'attributes: must be an object'],
      [7, 'nested: must be a string, number, boolean or null'],
      [8, 'not valid JSON'],
      [9, 'not a JSON object'],
      [11, 'not valid UTF-8'],
    ]);
  });
});

describe('importing again', () => {
  const csv = 'id,mobile,email,name,city\n' + Array.from({ length: 50 }, (_, i) => `re-${i},3462${String(i).padStart(7, '0')},,Name ${i},"Town, ${i}"`).join('\n') + '\n';

  it('writes no row version and captures nothing when the file has not changed', async () => {
    const file = await fileOf('again.csv', csv);
    const first = await importContacts({ pool: db }, { file, groupId: 'g' });
    expect(first).toMatchObject({ inserted: 50, membersAdded: 50 });
    const outbox = await outboxRows();
    // xmin changes with any UPDATE, even one the capture and touch triggers would skip.
    const versions = `SELECT id, xmin::text AS xmin FROM contacts WHERE id LIKE 're-%' ORDER BY id`;
    const before = (await db.query(versions)).rows;
    const second = await importContacts({ pool: db }, { file, groupId: 'g' });
    expect(second).toMatchObject({ read: 50, imported: 0, unchanged: 50, membersAdded: 0, rejected: 0 });
    expect(await outboxRows()).toBe(outbox);
    expect((await db.query(versions)).rows).toEqual(before);
  });

  it('updates only the rows that differ, and the capture sees only those', async () => {
    const changed = csv.replace('Name 7,', 'Renamed 7,');
    const outbox = await outboxRows();
    const summary = await importContacts({ pool: db }, { file: await fileOf('changed.csv', changed), groupId: 'g' });
    expect(summary).toMatchObject({ updated: 1, unchanged: 49 });
    expect(await outboxRows()).toBe(outbox + 1);
    expect((await contact('re-7'))?.attributes).toEqual({ name: 'Renamed 7', city: 'Town, 7' });
  });

  it('keeps columns the file lacks, clears emptied ones, and lets the last row of an id win', async () => {
    await db.query(`UPDATE contacts SET email = 'kept@example.com' WHERE id = 're-1'`);
    const file = await fileOf('partial.csv', 'id,mobile,city\nre-1,34629999999,\nre-2,34620000002,First\nre-2,34620000002,Last\n');
    const summary = await importContacts({ pool: db }, { file });
    expect(summary).toMatchObject({ read: 3, duplicates: 1, updated: 2 });
    expect(await contact('re-1')).toEqual({ mobile: '34629999999', email: 'kept@example.com', attributes: { name: 'Name 1' } });
    expect((await contact('re-2'))?.attributes).toEqual({ name: 'Name 2', city: 'Last' });
  });
});

describe('refusing a file or group as a whole', () => {
  it('writes nothing for a CSV whose header has no id column', async () => {
    const file = await fileOf('noid.csv', 'mobile,name\n34630000001,Nobody\n');
    await expect(importContacts({ pool: db }, { file })).rejects.toThrow(ImportFileError);
    await expect(importContacts({ pool: db }, { file })).rejects.toThrow(/no "id" column/);
    expect((await db.query(`SELECT 1 FROM contacts WHERE mobile = '34630000001'`)).rowCount).toBe(0);
  });

  it('writes nothing when the group does not exist', async () => {
    const file = await fileOf('nogroup.csv', 'id,mobile\nng-1,34630000002\n');
    await expect(importContacts({ pool: db }, { file, groupId: 'missing' })).rejects.toThrow(UnknownGroupError);
    expect(await contact('ng-1')).toBeNull();
  });

  it('names a file that cannot be read, and one whose format it cannot tell', async () => {
    await expect(importContacts({ pool: db }, { file: join(dir, 'absent.csv') })).rejects.toThrow(/cannot read .*ENOENT/);
    await expect(importContacts({ pool: db }, { file: await fileOf('data.txt', 'id\n') })).rejects.toThrow(
      /cannot tell the format/,
    );
  });
});
