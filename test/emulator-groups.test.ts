import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../src/emulator/index.ts';

// The group methods' answers: the shapes the emulator chose and the client relies on.

let emulator: RunningEmulator;

beforeAll(async () => {
  emulator = await startEmulator();
});

afterAll(() => emulator.close());

beforeEach(async () => {
  await fetch(`${emulator.url}/__emulator/reset`, { method: 'POST' });
});

interface Answer {
  status: string;
  result?: unknown;
  error?: string;
}

async function api(params: Record<string, string>): Promise<Answer> {
  const body = new URLSearchParams({ class: 'group', user: 'demo', password: 'demo', ...params });
  const res = await fetch(`${emulator.url}/api/http/`, { method: 'POST', body });
  return (await res.json()) as Answer;
}

async function newGroup(fields = 'mobile,name', type = 'mobile'): Promise<string> {
  const answer = await api({ method: 'creategroup', name: 'G', type, fields });
  return String((answer.result as { idgroup: number }).idgroup);
}

async function columns(idgroup: string): Promise<unknown> {
  return (await api({ method: 'getgroupcolumns', idgroup })).result;
}

interface StateGroup {
  account: string;
  idgroup: number;
  name: string;
  type: string;
  fields: string[];
  country: string | null;
}

async function stateGroups(): Promise<StateGroup[]> {
  const res = await fetch(`${emulator.url}/__emulator/state`);
  return ((await res.json()) as { groups: StateGroup[] }).groups;
}

describe('creategroup', () => {
  it('answers the new group’s id as a positive JSON number, a new one each time', async () => {
    const first = await api({ method: 'creategroup', name: 'A', type: 'mobile', fields: 'mobile' });
    const second = await api({ method: 'creategroup', name: 'A', type: 'email', fields: 'email' });
    const a = (first.result as { idgroup: number }).idgroup;
    const b = (second.result as { idgroup: number }).idgroup;
    expect(first).toEqual({ status: 'SUCCESS', result: { idgroup: a } });
    expect(Number.isInteger(a) && a > 0).toBe(true);
    expect(b).toBeGreaterThan(a);
  });

  it('trims and de-duplicates the field names, keeping their order', async () => {
    const idgroup = await newGroup(' name , mobile,name,, email ');
    expect(await columns(idgroup)).toEqual(['name', 'mobile', 'email']);
  });

  it('keeps the name, type and account, with no country yet', async () => {
    await api({ method: 'creategroup', name: 'Newsletter', type: 'email', fields: 'email,name' });
    expect(await stateGroups()).toMatchObject([
      { account: 'demo', name: 'Newsletter', type: 'email', fields: ['email', 'name'] },
    ]);
    expect((await stateGroups())[0]?.country).toBeNull();
  });
});

describe('getgroupcolumns', () => {
  it('answers the field names in order as an array of strings', async () => {
    const idgroup = await newGroup('mobile,name,city');
    expect(await api({ method: 'getgroupcolumns', idgroup })).toEqual({
      status: 'SUCCESS',
      result: ['mobile', 'name', 'city'],
    });
  });
});

describe('addcolumntogroup', () => {
  it('appends the column and answers without a result', async () => {
    const idgroup = await newGroup();
    expect(await api({ method: 'addcolumntogroup', idgroup, field: ' city ' })).toEqual({
      status: 'SUCCESS',
    });
    expect(await columns(idgroup)).toEqual(['mobile', 'name', 'city']);
  });

  it('succeeds without change for a column the group already has', async () => {
    const idgroup = await newGroup();
    expect(await api({ method: 'addcolumntogroup', idgroup, field: 'name' })).toEqual({
      status: 'SUCCESS',
    });
    expect(await columns(idgroup)).toEqual(['mobile', 'name']);
  });

  it('gives existing contacts an empty value in the new column', async () => {
    const idgroup = await newGroup();
    await api({ method: 'addcontact', idgroup, contact: 'mobile:34600000001,name:Ann' });
    await api({ method: 'addcolumntogroup', idgroup, field: 'city' });
    const contacts = (await api({ method: 'getcontacts', idgroup })).result;
    expect(contacts).toMatchObject([{ fields: { mobile: '34600000001', name: 'Ann', city: '' } }]);
  });
});

describe('deletecolumnfromgroup', () => {
  it('removes the column and its values', async () => {
    const idgroup = await newGroup('mobile,name,city');
    await api({ method: 'addcontact', idgroup, contact: 'mobile:34600000001,name:Ann,city:Vigo' });
    expect(await api({ method: 'deletecolumnfromgroup', idgroup, field: 'name' })).toEqual({
      status: 'SUCCESS',
    });
    expect(await columns(idgroup)).toEqual(['mobile', 'city']);
    const contacts = (await api({ method: 'getcontacts', idgroup })).result;
    expect(contacts).toMatchObject([{ fields: { mobile: '34600000001', city: 'Vigo' } }]);
    // Adding the column back does not bring the old values back.
    await api({ method: 'addcolumntogroup', idgroup, field: 'name' });
    const again = (await api({ method: 'getcontacts', idgroup })).result;
    expect(again).toMatchObject([{ fields: { mobile: '34600000001', city: 'Vigo', name: '' } }]);
  });

  it('refuses to delete the main field with MISSING_MAIN_FIELD', async () => {
    const idgroup = await newGroup();
    expect(await api({ method: 'deletecolumnfromgroup', idgroup, field: 'mobile' })).toEqual({
      status: 'ERROR',
      error: 'MISSING_MAIN_FIELD',
    });
    expect(await columns(idgroup)).toEqual(['mobile', 'name']);
  });

  it('succeeds without change for a column the group does not have', async () => {
    const idgroup = await newGroup();
    expect(await api({ method: 'deletecolumnfromgroup', idgroup, field: 'city' })).toEqual({
      status: 'SUCCESS',
    });
    expect(await columns(idgroup)).toEqual(['mobile', 'name']);
  });
});

describe('deletegroup', () => {
  it('removes the group and its contacts, answering without a result', async () => {
    const idgroup = await newGroup();
    const kept = await newGroup();
    await api({ method: 'addcontact', idgroup, contact: 'mobile:34600000001' });
    expect(await api({ method: 'deletegroup', idgroup })).toEqual({ status: 'SUCCESS' });
    expect(await api({ method: 'getcontacts', idgroup })).toEqual({
      status: 'ERROR',
      error: 'NOT_ACCESS_TO_GROUP',
    });
    expect((await stateGroups()).map((group) => String(group.idgroup))).toEqual([kept]);
  });
});

describe('assigncountrytogroup', () => {
  it('stores the code in lower case whatever its case, answering without a result', async () => {
    const idgroup = await newGroup();
    expect(await api({ method: 'assigncountrytogroup', idgroup, countryiso3: 'EsP' })).toEqual({
      status: 'SUCCESS',
    });
    expect((await stateGroups())[0]?.country).toBe('esp');
  });
});

describe('ids in requests', () => {
  it('accepts a group id as any numeric string naming it', async () => {
    const idgroup = await newGroup();
    expect(await columns(`00${idgroup}`)).toEqual(['mobile', 'name']);
  });
});
