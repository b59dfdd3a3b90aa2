import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../src/emulator/index.ts';

// The contact methods' answers and effects: ids, values kept exactly, duplicates, and how
// addcontactlist reports a partly skipped list.

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

async function newGroup(fields = 'mobile,name'): Promise<string> {
  const answer = await api({ method: 'creategroup', name: 'G', type: 'mobile', fields });
  return String((answer.result as { idgroup: number }).idgroup);
}

async function add(idgroup: string, contact: string): Promise<number> {
  const answer = await api({ method: 'addcontact', idgroup, contact });
  return (answer.result as { idcontact: number }).idcontact;
}

async function contactsOf(idgroup: string): Promise<unknown> {
  return (await api({ method: 'getcontacts', idgroup })).result;
}

const list = (idgroup: string, contacts: unknown) =>
  api({ method: 'addcontactlist', idgroup, contacts: JSON.stringify(contacts) });

describe('addcontact and getcontact', () => {
  it('answers the new contact’s id as a number and shows every column', async () => {
    const idgroup = await newGroup('mobile,name,city');
    const answer = await api({ method: 'addcontact', idgroup, contact: 'mobile:34600000001' });
    const idcontact = (answer.result as { idcontact: number }).idcontact;
    expect(answer).toEqual({ status: 'SUCCESS', result: { idcontact } });
    expect(await api({ method: 'getcontact', idgroup, idcontact: String(idcontact) })).toEqual({
      status: 'SUCCESS',
      result: { idcontact, fields: { mobile: '34600000001', name: '', city: '' } },
    });
  });

  it('keeps values exactly as sent, splitting each pair on its first colon', async () => {
    const idgroup = await newGroup('mobile,name,note');
    const id = await add(idgroup, 'mobile:+34 600-000 001, name:  Ana Núñez ,note:a:b');
    const answer = await api({ method: 'getcontact', idgroup, idcontact: String(id) });
    expect(answer.result).toEqual({
      idcontact: id,
      fields: { mobile: '+34 600-000 001', name: '  Ana Núñez ', note: 'a:b' },
    });
  });

  it('handles columns named like JavaScript object properties as plain names', async () => {
    const idgroup = await newGroup('mobile,__proto__,constructor');
    const id = await add(idgroup, 'mobile:1,__proto__:p,constructor:c');
    const body = new URLSearchParams({ class: 'group', user: 'demo', password: 'demo' });
    body.set('method', 'getcontact');
    body.set('idgroup', idgroup);
    body.set('idcontact', String(id));
    const res = await fetch(`${emulator.url}/api/http/`, { method: 'POST', body });
    expect(await res.text()).toBe(
      `{"status":"SUCCESS","result":{"idcontact":${id},"fields":{"mobile":"1","__proto__":"p","constructor":"c"}}}`,
    );
  });

  it('ignores fields that are not columns of the group', async () => {
    const idgroup = await newGroup();
    const id = await add(idgroup, 'mobile:34600000001,age:40,name:Ann');
    expect(await contactsOf(idgroup)).toEqual([
      { idcontact: id, fields: { mobile: '34600000001', name: 'Ann' } },
    ]);
  });
});

describe('getcontacts', () => {
  it('answers every contact in id order', async () => {
    const idgroup = await newGroup();
    const ids = [await add(idgroup, 'mobile:3'), await add(idgroup, 'mobile:1')];
    ids.push(await add(idgroup, 'mobile:2,name:Two'));
    expect(await contactsOf(idgroup)).toEqual([
      { idcontact: ids[0], fields: { mobile: '3', name: '' } },
      { idcontact: ids[1], fields: { mobile: '1', name: '' } },
      { idcontact: ids[2], fields: { mobile: '2', name: 'Two' } },
    ]);
    expect(ids[1]).toBeGreaterThan(ids[0] ?? Infinity);
  });

  it('answers an empty array for an empty group', async () => {
    expect(await api({ method: 'getcontacts', idgroup: await newGroup() })).toEqual({
      status: 'SUCCESS',
      result: [],
    });
  });
});

describe('modifycontact', () => {
  it('sets only the given fields and answers without a result', async () => {
    const idgroup = await newGroup('mobile,name,city');
    const id = await add(idgroup, 'mobile:34600000001,name:Ann,city:Vigo');
    const modify = { method: 'modifycontact', idgroup, idcontact: String(id) };
    expect(await api({ ...modify, contact: 'city:Lugo,unknown:x' })).toEqual({ status: 'SUCCESS' });
    expect(await contactsOf(idgroup)).toEqual([
      { idcontact: id, fields: { mobile: '34600000001', name: 'Ann', city: 'Lugo' } },
    ]);
  });

  it('changes the main value, freeing the old one and refusing another contact’s', async () => {
    const idgroup = await newGroup();
    const first = await add(idgroup, 'mobile:111');
    await add(idgroup, 'mobile:222');
    const modify = { method: 'modifycontact', idgroup, idcontact: String(first) };
    expect(await api({ ...modify, contact: 'mobile:222' })).toEqual({
      status: 'ERROR',
      error: 'CONTACT_EXISTS',
    });
    expect(await api({ ...modify, contact: 'mobile:111,name:Same' })).toEqual({
      status: 'SUCCESS',
    });
    expect(await api({ ...modify, contact: 'mobile:333' })).toEqual({ status: 'SUCCESS' });
    expect(await api({ method: 'addcontact', idgroup, contact: 'mobile:111' })).toMatchObject({
      status: 'SUCCESS',
    });
  });

  it('refuses an empty main value with MISSING_MAIN_FIELD and changes nothing', async () => {
    const idgroup = await newGroup();
    const id = await add(idgroup, 'mobile:111,name:Ann');
    const modify = { method: 'modifycontact', idgroup, idcontact: String(id) };
    expect(await api({ ...modify, contact: 'name:Bob,mobile:' })).toEqual({
      status: 'ERROR',
      error: 'MISSING_MAIN_FIELD',
    });
    expect(await contactsOf(idgroup)).toEqual([
      { idcontact: id, fields: { mobile: '111', name: 'Ann' } },
    ]);
  });
});

describe('deletecontact', () => {
  it('removes the contact and frees its main value, answering without a result', async () => {
    const idgroup = await newGroup();
    const id = await add(idgroup, 'mobile:111');
    expect(await api({ method: 'deletecontact', idgroup, idcontact: String(id) })).toEqual({
      status: 'SUCCESS',
    });
    expect(await api({ method: 'getcontact', idgroup, idcontact: String(id) })).toEqual({
      status: 'ERROR',
      error: 'NOT_ACCESS_TO_CONTACT',
    });
    expect(await add(idgroup, 'mobile:111')).toBeGreaterThan(id);
  });
});

describe('addcontactlist', () => {
  it('adds every entry and reports each new id with its main value', async () => {
    const idgroup = await newGroup();
    const answer = await list(idgroup, [
      { mobile: '111', name: 'A' },
      { name: 'B', mobile: 222 },
    ]);
    const added = (answer.result as { added: { idcontact: number }[] }).added;
    const [a, b] = added.map((entry) => entry.idcontact);
    expect(answer).toEqual({
      status: 'SUCCESS',
      result: {
        added: [
          { idcontact: a, main: '111' },
          { idcontact: b, main: '222' },
        ],
        skipped: [],
      },
    });
    expect(await contactsOf(idgroup)).toEqual([
      { idcontact: a, fields: { mobile: '111', name: 'A' } },
      { idcontact: b, fields: { mobile: '222', name: 'B' } },
    ]);
  });

  it('skips entries already in the group or earlier in the list, naming the holder', async () => {
    const idgroup = await newGroup();
    const existing = await add(idgroup, 'mobile:111,name:Old');
    const answer = await list(idgroup, [
      { mobile: '111', name: 'New' },
      { mobile: '222', name: 'First' },
      { mobile: '222', name: 'Repeat' },
    ]);
    const result = answer.result as { added: { idcontact: number; main: string }[] };
    const fresh = result.added[0]?.idcontact;
    expect(result).toEqual({
      added: [{ idcontact: fresh, main: '222' }],
      skipped: [
        { index: 0, reason: 'CONTACT_EXISTS', idcontact: existing },
        { index: 2, reason: 'CONTACT_EXISTS', idcontact: fresh },
      ],
    });
    expect(await contactsOf(idgroup)).toEqual([
      { idcontact: existing, fields: { mobile: '111', name: 'Old' } },
      { idcontact: fresh, fields: { mobile: '222', name: 'First' } },
    ]);
  });

  it('rejects the whole list with MISSING_MAIN_FIELD if any entry lacks its main value', async () => {
    const idgroup = await newGroup();
    for (const bad of [
      { name: 'No mobile' },
      { mobile: '' },
      { mobile: null },
      { ' mobile': '1' },
    ]) {
      expect(await list(idgroup, [{ mobile: '111' }, bad])).toEqual({
        status: 'ERROR',
        error: 'MISSING_MAIN_FIELD',
      });
    }
    expect(await contactsOf(idgroup)).toEqual([]);
  });

  it('ignores fields that are not columns of the group, and accepts an empty list', async () => {
    const idgroup = await newGroup();
    const answer = await list(idgroup, [{ mobile: '111', age: 40, constructor: 'x' }]);
    expect(answer.status).toBe('SUCCESS');
    expect(await contactsOf(idgroup)).toMatchObject([{ fields: { mobile: '111', name: '' } }]);
    expect(await list(idgroup, [])).toEqual({
      status: 'SUCCESS',
      result: { added: [], skipped: [] },
    });
  });
});
