import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { streamJson } from '../src/emulator/http-answers.ts';
import { startEmulator, type RunningEmulator } from '../src/emulator/index.ts';

// Large groups: 200,000 contacts loaded in batches, then read back in one streamed answer.

const TOTAL = 200_000;
const BATCH = 20_000;

interface Contact {
  idcontact: number;
  fields: Record<string, string>;
}

let emulator: RunningEmulator;
let idgroup: string;
const batchAnswers: { added: unknown[]; skipped: unknown[] }[] = [];

/** Posts multipart/form-data: no percent-encoding of a megabyte of JSON on either side. */
async function api(params: Record<string, string>): Promise<Response> {
  const body = new FormData();
  for (const [key, value] of Object.entries({ class: 'group', user: 'demo', password: 'demo' })) {
    body.append(key, value);
  }
  for (const [key, value] of Object.entries(params)) body.append(key, value);
  return fetch(`${emulator.url}/api/http/`, { method: 'POST', body });
}

beforeAll(async () => {
  emulator = await startEmulator();
  const create = { method: 'creategroup', name: 'Big', type: 'mobile', fields: 'mobile,name' };
  const created = (await (await api(create)).json()) as { result: { idgroup: number } };
  idgroup = String(created.result.idgroup);
  for (let start = 0; start < TOTAL; start += BATCH) {
    const contacts = Array.from({ length: BATCH }, (_, i) => ({
      mobile: String(34600000000 + start + i),
      name: `Contact ${start + i}`,
    }));
    const res = await api({
      method: 'addcontactlist',
      idgroup,
      contacts: JSON.stringify(contacts),
    });
    batchAnswers.push(((await res.json()) as { result: (typeof batchAnswers)[number] }).result);
  }
}, 30_000);

afterAll(() => emulator.close());

describe('a group of 200,000 contacts', () => {
  it('loads through addcontactlist in batches of 20,000', () => {
    expect(batchAnswers).toHaveLength(TOTAL / BATCH);
    for (const answer of batchAnswers) {
      expect(answer.added).toHaveLength(BATCH);
      expect(answer.skipped).toHaveLength(0);
    }
  });

  it('comes back whole, in id order, through one streamed getcontacts', async () => {
    const res = await api({ method: 'getcontacts', idgroup });
    // Streamed: sent in chunks with no length known up front.
    expect(res.headers.get('content-length')).toBeNull();
    expect(res.headers.get('transfer-encoding')).toBe('chunked');
    const answer = (await res.json()) as { status: string; result: Contact[] };
    expect(answer.status).toBe('SUCCESS');
    expect(answer.result).toHaveLength(TOTAL);
    expect(answer.result[0]?.fields).toEqual({ mobile: '34600000000', name: 'Contact 0' });
    expect(answer.result.at(-1)?.fields.mobile).toBe(String(34600000000 + TOTAL - 1));
    const ids = answer.result.map((contact) => contact.idcontact);
    expect(ids.every((id, i) => i === 0 || id > (ids[i - 1] ?? Infinity))).toBe(true);
  });

  it('leaves out of an answer being streamed the contacts added after it started', async () => {
    const res = await api({ method: 'getcontacts', idgroup });
    const late = await api({ method: 'addcontact', idgroup, contact: 'mobile:late' });
    expect(await late.json()).toMatchObject({ status: 'SUCCESS' });
    const answer = (await res.json()) as { result: Contact[] };
    expect(answer.result).toHaveLength(TOTAL);
    expect(answer.result.some((contact) => contact.fields.mobile === 'late')).toBe(false);
  });

  it('stops streaming when the reader goes away, and the emulator carries on', async () => {
    const reader = (await api({ method: 'getcontacts', idgroup })).body?.getReader();
    expect((await reader?.read())?.done).toBe(false);
    await reader?.cancel();
    const columns: unknown = await (await api({ method: 'getgroupcolumns', idgroup })).json();
    expect(columns).toEqual({ status: 'SUCCESS', result: ['mobile', 'name'] });
  });
});

describe('streaming with backpressure', () => {
  const PIECES = 1_000_000;
  let pulled = 0;
  let server: Server;

  beforeAll(async () => {
    server = createServer((_req, res) => {
      void streamJson(res, counted());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });

  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  function* counted(): Generator<string> {
    yield '[';
    for (; pulled < PIECES; pulled++) yield `${pulled ? ',' : ''}"${'x'.repeat(90)}"`;
    yield ']';
  }

  it('produces no more of the answer than a paused reader lets through', async () => {
    const { port } = server.address() as AddressInfo;
    const socket = connect(port, '127.0.0.1');
    socket.pause();
    socket.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    while (pulled === 0) await new Promise((resolve) => setTimeout(resolve, 20));
    await new Promise((resolve) => setTimeout(resolve, 300));
    // About 90 MB were asked for; only what fits in the socket buffers has been produced.
    expect(pulled).toBeLessThan(PIECES / 2);
    let bytes = 0;
    socket.on('data', (chunk: Buffer) => (bytes += chunk.length));
    socket.resume();
    await new Promise((resolve) => socket.on('end', resolve));
    expect(pulled).toBe(PIECES);
    expect(bytes).toBeGreaterThan(PIECES * 92);
  });
});
