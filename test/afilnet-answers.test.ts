import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { readAnswer } from '../src/afilnet/answer-reader.ts';
import { AfilnetApiError, AfilnetProtocolError, type AfilnetError } from '../src/afilnet/index.ts';
import { streamResultArray } from '../src/afilnet/result-array-stream.ts';
import {
  readColumns,
  readContact,
  readContactListResult,
  readCreatedId,
} from '../src/afilnet/result-shapes.ts';

// How the client reads the provider's answers, whatever shape the provider chooses within what
// the provider's page allows. The readers are fed bodies directly (as the transport
// would hand them over), split at awkward places, so every case here is deterministic.

function* slices(text: string, size: number): Generator<Uint8Array> {
  const bytes = Buffer.from(text);
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

/** A body delivered as a stream in chunks of `size` bytes, as a socket might. */
const chunked = (text: string, size = 7): Readable => Readable.from(slices(text, size));

async function collect(text: string, status = 200): Promise<unknown[]> {
  const items: unknown[] = [];
  for await (const item of streamResultArray('getcontacts', { status, body: chunked(text) })) {
    items.push(item);
  }
  return items;
}

async function failure(promise: Promise<unknown>): Promise<AfilnetError> {
  try {
    await promise;
  } catch (error) {
    return error as AfilnetError;
  }
  throw new Error('expected a failure');
}

describe('reading a whole answer', () => {
  const read = (text: string, status = 200) =>
    readAnswer('creategroup', { status, body: chunked(text) });

  it('accepts status in any case and returns the result', async () => {
    await expect(read('{"status":"success","result":{"idgroup":3}}')).resolves.toEqual({
      idgroup: 3,
    });
    await expect(read('{"status":"SUCCESS","result":12}')).resolves.toBe(12);
    await expect(read('{"status":"Success"}')).resolves.toBeUndefined();
  });

  it('turns status ERROR into an AfilnetApiError carrying the code', async () => {
    const error = await failure(read('{"status":"error","error":"INCORRECT_TYPE"}'));
    expect(error).toBeInstanceOf(AfilnetApiError);
    expect(error).toMatchObject({ kind: 'api', method: 'creategroup', code: 'INCORRECT_TYPE' });
  });

  it('reads an ERROR answer sent with a 4xx status as the API error it is', async () => {
    const error = await failure(read('{"status":"ERROR","error":"MISSING_USER"}', 401));
    expect(error).toMatchObject({ kind: 'api', code: 'MISSING_USER', status: 401 });
  });

  it('never copies free text from the error field into the error', async () => {
    const error = await failure(read('{"status":"ERROR","error":"bad password hunter2"}'));
    expect(error).toMatchObject({ kind: 'api', code: 'UNRECOGNISED_ERROR' });
    expect(error.message).not.toContain('hunter2');
  });

  it.each([
    ['not JSON', '<html>maintenance</html>', 200],
    ['a JSON array', '[1,2]', 200],
    ['no status', '{"result":1}', 200],
    ['an unknown status', '{"status":"PENDING"}', 200],
    ['ERROR without a code', '{"status":"ERROR"}', 200],
    ['SUCCESS on a 404', '{"status":"SUCCESS"}', 404],
  ])('calls %s a protocol error naming the method, not the body', async (_, text, status) => {
    const error = await failure(read(text, status));
    expect(error).toBeInstanceOf(AfilnetProtocolError);
    expect(error).toMatchObject({ kind: 'protocol', method: 'creategroup', status });
    expect(error.message).not.toContain(text);
  });
});

describe('streaming a result array', () => {
  it('yields each element of result, whatever the chunk boundaries', async () => {
    const text =
      '{"status":"SUCCESS","result":[{"idcontact":1,"fields":{"name":"Zoë ✓"}},{"a":2}]}';
    for (const size of [1, 3, 64]) {
      const items: unknown[] = [];
      const body = chunked(text, size);
      for await (const item of streamResultArray('getcontacts', { status: 200, body })) {
        items.push(item);
      }
      expect(items).toEqual([{ idcontact: 1, fields: { name: 'Zoë ✓' } }, { a: 2 }]);
    }
  });

  it('accepts status after the result and an empty array', async () => {
    await expect(collect('{"result":[{"x":1}],"status":"success"}')).resolves.toEqual([{ x: 1 }]);
    await expect(collect('{"status":"SUCCESS","result":[]}')).resolves.toEqual([]);
  });

  it('is not fooled by a nested key called result', async () => {
    await expect(
      collect('{"status":"SUCCESS","meta":{"result":[1]},"result":[2]}'),
    ).resolves.toEqual([2]);
    const error = await failure(collect('{"status":"SUCCESS","meta":{"result":[1]}}'));
    expect(error).toMatchObject({ kind: 'protocol', reason: 'result is not an array' });
  });

  it.each([
    ['an object result', '{"status":"SUCCESS","result":{"idcontact":1}}', 'result is not an array'],
    ['a scalar result', '{"status":"SUCCESS","result":5}', 'result is not an array'],
    ['no result', '{"status":"SUCCESS"}', 'result is not an array'],
    ['a truncated body', '{"status":"SUCCESS","result":[{"a":1}', 'answer is truncated'],
    ['an empty body', '', 'answer is empty'],
    ['a top-level array', '[{"a":1}]', 'answer is not a JSON object'],
    ['garbage after the answer', '{"status":"SUCCESS","result":[]} x', 'answer is not valid JSON'],
  ])('calls %s a protocol error', async (_, text, reason) => {
    const error = await failure(collect(text));
    expect(error).toBeInstanceOf(AfilnetProtocolError);
    expect(error).toMatchObject({ method: 'getcontacts', reason });
  });

  it('turns an ERROR answer into an AfilnetApiError', async () => {
    const error = await failure(collect('{"status":"ERROR","error":"NOT_ACCESS_TO_GROUP"}'));
    expect(error).toMatchObject({ kind: 'api', code: 'NOT_ACCESS_TO_GROUP' });
  });

  // Held whole, these 1,000,000 contacts take over 400 MB (a JSON.parse of the whole body
  // peaks at 516 MB); streamed they take what the parser and GC keep in flight, 60-110 MB by Node
  // version and load. The bound tells the two apart without depending on the garbage collector.
  it('streams 1,000,000 contacts without holding them (RSS grows < 200 MB)', async () => {
    const count = 1_000_000;
    function* answer(): Generator<Uint8Array> {
      yield Buffer.from('{"status":"SUCCESS","result":[');
      let chunk = '';
      for (let i = 0; i < count; i++) {
        const mobile = `34600${String(i).padStart(7, '0')}`;
        chunk += `${i ? ',' : ''}{"idcontact":${i + 1},"fields":{"mobile":"${mobile}","name":"Contact ${i}","email":"c${i}@example.com"}}`;
        if (chunk.length >= 65_536) {
          yield Buffer.from(chunk);
          chunk = '';
        }
      }
      yield Buffer.from(`${chunk}]}`);
    }
    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    let seen = 0;
    let lastId = '';
    for await (const raw of streamResultArray('getcontacts', {
      status: 200,
      body: Readable.from(answer()),
    })) {
      const contact = readContact(raw);
      if (!contact) throw new Error(`unreadable contact #${seen}`);
      lastId = contact.idcontact;
      seen += 1;
      if (seen % 20_000 === 0) peak = Math.max(peak, process.memoryUsage().rss);
    }
    expect(seen).toBe(count);
    expect(lastId).toBe(String(count));
    expect((peak - baseline) / 1024 / 1024).toBeLessThan(200);
  });
});

describe('result shapes', () => {
  it('reads a created id from a number, a numeric string or an object under any id key', () => {
    expect(readCreatedId(12, 'idgroup')).toBe('12');
    expect(readCreatedId('12', 'idgroup')).toBe('12');
    expect(readCreatedId({ idgroup: 12 }, 'idgroup')).toBe('12');
    expect(readCreatedId({ id: '7' }, 'idcontact')).toBe('7');
    expect(readCreatedId({ idcontact: 5 }, 'idcontact')).toBe('5');
  });

  it('gives a null id, not an error, when a create answered without one', () => {
    for (const result of [undefined, null, '', [], {}, 'OK', true, { name: 'x' }, 1.5, -3]) {
      expect(readCreatedId(result, 'idgroup')).toBeNull();
    }
    // Rounded by JSON.parse already: using it would address another contact.
    expect(readCreatedId(2 ** 53 + 2, 'idcontact')).toBeNull();
  });

  it('reads contacts nested or flat, with ids and values normalised to strings', () => {
    expect(readContact({ idcontact: 5, fields: { mobile: '346', name: 'A' } })).toEqual({
      idcontact: '5',
      fields: { mobile: '346', name: 'A' },
    });
    expect(readContact({ id: '9', idgroup: 2, mobile: 346, name: null })).toEqual({
      idcontact: '9',
      fields: { mobile: '346', name: '' },
    });
  });

  it('refuses a contact without a usable id or with non-text fields', () => {
    expect(readContact({ fields: { mobile: '1' } })).toBeUndefined();
    expect(readContact({ idcontact: 'abc', fields: {} })).toBeUndefined();
    expect(readContact({ idcontact: 1, fields: { tags: ['a'] } })).toBeUndefined();
    expect(readContact({ idcontact: 1, fields: 'mobile:1' })).toBeUndefined();
    expect(readContact([1])).toBeUndefined();
  });

  it('reads columns as an array or a comma-separated string, and nothing else', () => {
    expect(readColumns(['mobile', 'name'])).toEqual(['mobile', 'name']);
    expect(readColumns('mobile, name')).toEqual(['mobile', 'name']);
    expect(readColumns({ mobile: 1 })).toBeUndefined();
    expect(readColumns(undefined)).toBeUndefined();
  });

  it('reads the addcontactlist report with ids as strings', () => {
    const report = readContactListResult({
      added: [{ idcontact: 7, main: '34600' }],
      skipped: [{ index: '3', reason: 'CONTACT_EXISTS', idcontact: 2 }],
    });
    expect(report).toEqual({
      added: [{ idcontact: '7', main: '34600' }],
      skipped: [{ index: 3, reason: 'CONTACT_EXISTS', idcontact: '2' }],
    });
  });

  it('says "no ids" (added: null) when the list answer has no report or an id is missing', () => {
    expect(readContactListResult(undefined)).toEqual({ added: null, skipped: [] });
    expect(readContactListResult(3)).toEqual({ added: null, skipped: [] });
    expect(readContactListResult({ added: [{ main: '1' }], skipped: [] })).toEqual({
      added: null,
      skipped: [],
    });
  });

  it('refuses a report it cannot read rather than lose skipped contacts', () => {
    expect(readContactListResult({ added: [], skipped: [{ index: 'x' }] })).toBeUndefined();
    expect(readContactListResult({ added: 'all' })).toBeUndefined();
  });
});
