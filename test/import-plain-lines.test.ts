import { isUtf8 } from 'node:buffer';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { CopyOut } from '../src/operator/import/copy-out.ts';
import { PlainCsvLines } from '../src/operator/import/csv-plain-line.ts';
import { IdHashes } from '../src/operator/import/id-hashes.ts';
import { readLineBlocks } from '../src/operator/import/read-lines.ts';
import { CsvStager } from '../src/operator/import/stage-rows.ts';

/** Stages `csv` (one block) with or without the fast path: the COPY text, rejects and count. */
function stage(csv: Buffer, plainLines: boolean) {
  const out = new CopyOut();
  const stager = new CsvStager(out, new IdHashes(), { plainLines });
  stager.push({ bytes: csv, utf8: isUtf8(csv) });
  stager.end();
  return {
    copy: Buffer.concat(out.take(true)).toString('utf8'),
    rejects: stager.rejects,
    read: stager.read,
  };
}

/** mulberry32: the same rows every run. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const both = (csv: string | Buffer) => {
  const bytes = typeof csv === 'string' ? Buffer.from(csv) : csv;
  return { fast: stage(bytes, true), exact: stage(bytes, false) };
};

describe('the CSV fast path', () => {
  it('stages plain rows straight from their bytes, as COPY text rows in file order', () => {
    const { fast } = both(
      'id;mobile;email;name;note\n' +
        'a-1;+34600000001;one@example.com;"Peña; Ñandú";"back\\slash\ttab"\n' +
        'a-2;;;"say ""hi""";\\N\r\n',
    );
    expect(fast.rejects).toEqual([]);
    expect(fast.copy).toBe(
      '2\ta-1\t+34600000001\tone@example.com\tPeña; Ñandú\tback\\\\slash\\ttab\n' +
        '3\ta-2\t\t\tsay "hi"\t\\\\N\n',
    );
  });

  it('declines what it cannot prove good, and the exact path decides', () => {
    const cols = { delimiter: ',', width: 3, id: 0, mobile: 1, email: 2 };
    const plain = new PlainCsvLines(cols, new IdHashes());
    const declined = [
      ' a-1,34600000001,', // an id to trim
      'a-1, 34600000001,', // a mobile to trim
      'a-1,3460,', // too short a mobile
      'a-1,,a@b', // an e-mail without a dot in its domain
      'a-1,,"a""b"@c.d', // an e-mail with a quote in it
      'a-1,,', // (accepted: empty mobile and e-mail)
      '"a-1",,,', // one value too many
      'a-1,,"open', // a quote that closes on a later line
      'a-1,x"y,', // a quote inside an unquoted value
      'a-\u00001,,', // NUL
      `a-1,,${'x'.repeat(1001)}@example.com`, // maybe over the length limit
    ];
    const taken = declined.map((l) => {
      const bytes = Buffer.from(l);
      return plain.copy(bytes, 0, bytes.length, 2, new CopyOut());
    });
    expect(taken).toEqual(declined.map((l) => l === 'a-1,,'));
  });

  it('gives exactly what the exact path gives, on handpicked awkward rows', () => {
    const csv = Buffer.concat([
      Buffer.from(
        'ID,Mobile,Email,name,city\n' +
          'p-1,34600000001,a@b.co,Ann,"Madrid, Spain"\n' +
          ' p-2 , 34600000002 , a@b.co ,  spaced  ,\n' +
          'p-3,+34 600,,x,y\n' +
          'p-4,,not-an-email,x,y\n' +
          ',34600000005,,x,y\n' +
          'p-6,,,"multi\nline",z\n' +
          'p-8,,,x\n' +
          'p-9,,,x,y,z\n' +
          '\u00a0p-10\u00a0,,,x,y\n' +
          'p-11,,"q""@x.y",x,y\n' + // a quote is allowed in an address
          `p-12,,,${'é'.repeat(600)},y\n` +
          `p-13,,,${'😀'.repeat(501)},y\n` +
          'p-14,,,a\rb,"c\r\nd"\n' +
          'p-15,,,\\.,"\\N"\n' +
          '   \n' +
          'p-16,,,x,y',
      ),
      Buffer.from('\np-17,,,caf\xe9,y\n', 'latin1'),
      Buffer.from('p-18,,,"unclosed,z\np-19,,,x,y\n'),
    ]);
    const { fast, exact } = both(csv);
    expect(fast).toEqual(exact);
    expect(exact.rejects.map((r) => [r.line, r.reason])).toEqual([
      [4, 'mobile: not 6 to 15 digits with an optional leading +'],
      [5, 'email: does not look like an e-mail address'],
      [6, 'missing id'],
      [9, 'expected 5 columns, found 4'],
      [10, 'expected 5 columns, found 6'],
      [14, 'name: longer than 1000 characters'],
      [20, 'not valid UTF-8'],
      [21, 'unclosed quote (or a record over 1 MB)'],
    ]);
    expect(exact.read).toBe(18);
  });

  it('gives exactly what the exact path gives, on random rows', () => {
    const random = seeded(7);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)] as T;
    const pieces = ['a', 'Z', '0', '7', '+', ' ', '\t', '\\', '"', '""', ',', '@', '.', 'é', '€'];
    // Mostly good values, some to trim, some bad.
    const ids = ['r-1', 'r-2', 'r\\4', 'é5', 'r-1', 'r-2', 'r-7', ' r-3', 'r-6\t', ''];
    const mobiles = ['', '34600000001', '+34600000001', '', '346000001', ' 34600000001', '3460'];
    const emails = [
      '',
      'a@b.co',
      'x.y@z.w',
      '',
      'a@b.co',
      'a@b.co ',
      'a@b.',
      'a@@b.co',
      'a\tb@c.de',
    ];
    const value = () =>
      Array.from({ length: Math.floor(random() * 6) }, () => pick(pieces)).join('');
    const field = (v: string) =>
      random() < 0.3 ? `"${v.replace(/"/g, '""')}"` : random() < 0.98 ? v.replace(/[",]/g, '') : v;
    const lines = Array.from({ length: 3_000 }, () => {
      const values = [pick(ids), pick(mobiles), pick(emails), value(), value()];
      if (random() < 0.05) values.push(value());
      if (random() < 0.05) values.pop();
      return values.map(field).join(',');
    });
    const { fast, exact } = both(`id,mobile,email,name,city\n${lines.join('\n')}\n`);
    expect(fast).toEqual(exact);
    // Enough rows of each kind for the comparison to mean something.
    const plain = new PlainCsvLines(
      { delimiter: ',', width: 5, id: 0, mobile: 1, email: 2 },
      new IdHashes(),
    );
    const taken = lines.filter((l) => {
      const bytes = Buffer.from(l);
      return plain.copy(bytes, 0, bytes.length, 2, new CopyOut());
    });
    expect(taken.length).toBeGreaterThan(500);
    expect(exact.read - exact.rejects.length - taken.length).toBeGreaterThan(300);
    expect(exact.rejects.length).toBeGreaterThan(300);
  });
});

describe('staging a CSV read in chunks', () => {
  it('gives the same rows and rejects wherever the chunks end', async () => {
    const csv = Buffer.from(
      'id,mobile,name\r\n' +
        'c-1,34600000001,"Peña, Ñandú"\r\n' +
        'c-2,,"two\r\nlines"\r\n' +
        ',34600000003,no id\r\n' +
        '\r\n' +
        `c-4,,${'x'.repeat(60)}\r\n` +
        'c-5,,"open\r\n' +
        'c-6,34600000006,日本',
    );
    const stageChunks = async (size: number) => {
      const chunks: Buffer[] = [];
      for (let i = 0; i < csv.length; i += size) chunks.push(csv.subarray(i, i + size));
      const out = new CopyOut();
      const stager = new CsvStager(out, new IdHashes());
      for await (const block of readLineBlocks(Readable.from(chunks), 1_000)) stager.push(block);
      stager.end();
      return { copy: Buffer.concat(out.take(true)).toString(), rejects: stager.rejects };
    };
    const whole = await stageChunks(csv.length);
    expect(whole.rejects.map((r) => [r.line, r.reason])).toEqual([
      [5, 'missing id'],
      [8, 'unclosed quote (or a record over 1 MB)'],
    ]);
    expect(whole.copy.split('\n').map((row) => row.split('\t')[0])).toEqual([
      '2',
      '3',
      '7',
      '9',
      '',
    ]);
    for (const size of [1, 2, 3, 7, 16, 64]) {
      expect(await stageChunks(size), `chunks of ${size} bytes`).toEqual(whole);
    }
  });
});

describe('telling duplicate ids', () => {
  const add = (ids: IdHashes, id: string) => {
    const bytes = Buffer.from(id);
    ids.addBytes(bytes, 0, bytes.length);
  };

  it('finds none among many distinct ids, and one given twice (as bytes or as text)', () => {
    const distinct = new IdHashes();
    for (let i = 0; i < 300_000; i++) add(distinct, `crm-${i}`);
    expect(distinct.maybeDuplicates()).toBe(false);

    const twice = new IdHashes();
    for (let i = 0; i < 1_000; i++) add(twice, `crm-${i}`);
    add(twice, 'josé');
    twice.addString('josé');
    expect(twice.maybeDuplicates()).toBe(true);
  });
});
