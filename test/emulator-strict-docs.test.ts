import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../src/emulator/index.ts';

// --strict-docs: the page taken literally for the methods that create things.

interface Answer {
  status: string;
  result?: unknown;
}

describe('in strict-docs mode', () => {
  let strict: RunningEmulator;
  const call = async (params: Record<string, string>): Promise<Answer> => {
    const body = new URLSearchParams({ class: 'group', user: 'demo', password: 'demo', ...params });
    return (await (
      await fetch(`${strict.url}/api/http/`, { method: 'POST', body })
    ).json()) as Answer;
  };

  beforeAll(async () => {
    strict = await startEmulator({ strictDocs: true });
  });

  afterAll(() => strict.close());

  it('answers the creating methods with no result, and still shows ids when reading', async () => {
    const create = { method: 'creategroup', name: 'G', type: 'mobile', fields: 'mobile,name' };
    expect(await call(create)).toEqual({ status: 'SUCCESS' });
    const state = (await (await fetch(`${strict.url}/__emulator/state`)).json()) as {
      groups: { idgroup: number }[];
    };
    const idgroup = String(state.groups[0]?.idgroup);
    expect(await call({ method: 'addcontact', idgroup, contact: 'mobile:111' })).toEqual({
      status: 'SUCCESS',
    });
    const contacts = JSON.stringify([{ mobile: '222' }, { mobile: '111' }]);
    expect(await call({ method: 'addcontactlist', idgroup, contacts })).toEqual({
      status: 'SUCCESS',
    });
    const read = await call({ method: 'getcontacts', idgroup });
    expect(read.result).toEqual([
      { idcontact: expect.any(Number) as number, fields: { mobile: '111', name: '' } },
      { idcontact: expect.any(Number) as number, fields: { mobile: '222', name: '' } },
    ]);
    expect(await call({ method: 'getgroupcolumns', idgroup })).toEqual({
      status: 'SUCCESS',
      result: ['mobile', 'name'],
    });
  });
});
