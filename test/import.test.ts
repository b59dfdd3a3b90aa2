import { beforeAll, describe, expect, it } from 'vitest';
import { importContacts, type ImportSummary } from '../src/operator/import/import-contacts.ts';
import { useImportFixture } from './support/import-fixture.ts';

const fx = useImportFixture();

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
    summary = await importContacts({ pool: fx.db }, { file: await fx.fileOf('contacts.csv', csv) });
  });

  it('imports every good row with its attributes, quoted commas and line breaks included', async () => {
    expect(await fx.contact('csv-1')).toEqual({
      mobile: '+34600000001',
      email: 'one@example.com',
      attributes: { name: 'Smith, John' },
    });
    expect((await fx.contact('csv-2'))?.attributes).toEqual({ name: 'Say "hi"' });
    expect((await fx.contact('csv-5'))?.attributes).toEqual({ name: 'two\nlines' });
    expect(await fx.contact('csv-11')).toEqual({
      mobile: '34600000011',
      email: null,
      attributes: { name: 'Eleven' },
    });
    expect(summary).toMatchObject({
      read: 11,
      imported: 4,
      inserted: 4,
      rejected: 7,
      unchanged: 0,
    });
  });

  it('reports every bad row with its line number and reason, and no good one', async () => {
    const rejects = await fx.reportOf(summary);
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
    expect(await fx.contact('csv-latin1')).toBeNull();
  });
});

describe('importing NDJSON with good and bad rows', () => {
  const lines = [
    JSON.stringify({
      id: 'nd-1',
      mobile: '34610000001',
      name: 'Ann',
      attributes: { city: 'Madrid, Spain', name: 'overridden' },
    }),
    JSON.stringify({
      id: 'nd-2',
      mobile: 34610000002,
      email: 'two@example.com',
      vip: true,
      score: 7,
    }),
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
    summary = await importContacts(
      { pool: fx.db },
      { file: await fx.fileOf('contacts.ndjson', body) },
    );
  });

  it('imports good rows, merging the attributes object with the other keys', async () => {
    expect(await fx.contact('nd-1')).toEqual({
      mobile: '34610000001',
      email: null,
      attributes: { name: 'Ann', city: 'Madrid, Spain' },
    });
    expect(await fx.contact('nd-2')).toEqual({
      mobile: '34610000002',
      email: 'two@example.com',
      attributes: { vip: true, score: 7 },
    });
    expect((await fx.contact('nd-12'))?.mobile).toBe('34610000012');
    expect(summary).toMatchObject({ read: 11, imported: 3, rejected: 8 });
  });

  it('reports wrong types, bad JSON and non-UTF-8 lines by line number', async () => {
    const rejects = await fx.reportOf(summary);
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
