import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../src/emulator/index.ts';

// Large groups: 200,000 contacts loaded in batches, then read back in one streamed answer.

const TOTAL = 200_000;
const BATCH = 20_000;

let emulator: RunningEmulator;

beforeAll(async () => {
  emulator = await startEmulator();
});

afterAll(() => emulator.close());

/** Posts multipart/form-data: no percent-encoding of a megabyte of JSON on either side. */
async function api(params: Record<string, string>): Promise<Response> {
  const body = new FormData();
  for (const [key, value] of Object.entries({ class: 'group', user: 'demo', password: 'demo' })) {
    body.append(key, value);
  }
  for (const [key, value] of Object.entries(params)) body.append(key, value);
  return fetch(`${emulator.url}/api/http/`, { method: 'POST', body });
}

describe('a group of 200,000 contacts', () => {
  it('loads through addcontactlist in batches and streams back whole through getcontacts', async () => {
    const create = { method: 'creategroup', name: 'Big', type: 'mobile', fields: 'mobile,name' };
    const created = (await (await api(create)).json()) as { result: { idgroup: number } };
    const idgroup = String(created.result.idgroup);
    for (let start = 0; start < TOTAL; start += BATCH) {
      const contacts = Array.from({ length: BATCH }, (_, i) => ({
        mobile: String(34600000000 + start + i),
        name: `Contact ${start + i}`,
      }));
      const answer = (await (
        await api({ method: 'addcontactlist', idgroup, contacts: JSON.stringify(contacts) })
      ).json()) as { result: { added: unknown[]; skipped: unknown[] } };
      expect(answer.result.added).toHaveLength(BATCH);
      expect(answer.result.skipped).toHaveLength(0);
    }

    const res = await api({ method: 'getcontacts', idgroup });
    // Streamed: sent in chunks with no length known up front.
    expect(res.headers.get('content-length')).toBeNull();
    expect(res.headers.get('transfer-encoding')).toBe('chunked');
    const answer = (await res.json()) as {
      status: string;
      result: { idcontact: number; fields: Record<string, string> }[];
    };
    expect(answer.status).toBe('SUCCESS');
    expect(answer.result).toHaveLength(TOTAL);
    expect(answer.result[0]?.fields).toEqual({ mobile: '34600000000', name: 'Contact 0' });
    expect(answer.result.at(-1)?.fields.mobile).toBe(String(34600000000 + TOTAL - 1));
    const ids = answer.result.map((contact) => contact.idcontact);
    expect(ids.every((id, i) => i === 0 || id > (ids[i - 1] ?? Infinity))).toBe(true);

    // A reader that goes away mid-stream stops the stream; the emulator carries on.
    const partial = await api({ method: 'getcontacts', idgroup }).then((r) => r.body);
    const reader = partial?.getReader();
    expect((await reader?.read())?.done).toBe(false);
    await reader?.cancel();
    const columns: unknown = await (await api({ method: 'getgroupcolumns', idgroup })).json();
    expect(columns).toEqual({ status: 'SUCCESS', result: ['mobile', 'name'] });
  }, 30_000);
});
