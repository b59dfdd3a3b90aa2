import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { readLines, type SourceLine } from '../src/operator/import/read-lines.ts';

function chunked(bytes: Buffer, size: number): AsyncIterable<Buffer> {
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
  return Readable.from(chunks);
}

async function collect(bytes: Buffer, size: number, maxBytes = 1_000): Promise<SourceLine[]> {
  const out: SourceLine[] = [];
  for await (const batch of readLines(chunked(bytes, size), maxBytes)) out.push(...batch);
  return out;
}

describe('splitting an import file into lines', () => {
  const sample = Buffer.concat([
    Buffer.from('id,name\r\n'),
    Buffer.from('1,Peña Ñandú €\n'),
    Buffer.from('\n'),
    Buffer.from('2,Caf'),
    Buffer.from([0xe9]), // Latin-1 é: not UTF-8
    Buffer.from('\n3,日本\n'),
    Buffer.from(`4,${'x'.repeat(40)}\n`),
    Buffer.from('5,last without newline'),
  ]);

  it('gives the same lines whatever the chunk boundaries, multi-byte characters included', async () => {
    const whole = await collect(sample, sample.length);
    expect(whole.map((l) => [l.line, l.utf8, l.oversize])).toEqual([
      [1, true, false],
      [2, true, false],
      [3, true, false],
      [4, false, false],
      [5, true, false],
      [6, true, false],
      [7, true, false],
    ]);
    expect(whole.map((l) => l.text)).toEqual([
      'id,name',
      '1,Peña Ñandú €',
      '',
      '2,Caf\uFFFD',
      '3,日本',
      `4,${'x'.repeat(40)}`,
      '5,last without newline',
    ]);
    for (const size of [1, 2, 3, 5, 7, 16, 64]) {
      expect(await collect(sample, size), `chunks of ${size} bytes`).toEqual(whole);
    }
  });

  it('cuts and flags a line longer than the limit instead of buffering it', async () => {
    for (const size of [7, 1_000_000]) {
      const lines = await collect(sample, size, 30);
      expect(lines.map((l) => l.oversize)).toEqual([
        false,
        false,
        false,
        false,
        false,
        true,
        false,
      ]);
      expect(lines[5]?.text.startsWith('4,xxx')).toBe(true);
      expect(lines[6]?.text).toBe('5,last without newline');
    }
  });
});
