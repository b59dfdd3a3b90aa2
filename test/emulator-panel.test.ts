import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../src/emulator/index.ts';

// Remote edits the way Afilnet's web panel makes them, through /__emulator/ routes: behind the
// API's back (never counted, limited or faulted), with values of any JSON type.

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
  return (await (
    await fetch(`${emulator.url}/api/http/`, { method: 'POST', body })
  ).json()) as Answer;
}

/** A panel call: answers the status and the JSON body. */
async function panel(
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`${emulator.url}/__emulator/${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  return { status: res.status, json: await res.json() };
}

let idgroup: string;
let ann: number;
let bob: number;

beforeEach(async () => {
  const created = await api({
    method: 'creategroup',
    name: 'G',
    type: 'mobile',
    fields: 'mobile,name',
  });
  idgroup = String((created.result as { idgroup: number }).idgroup);
  const add = async (contact: string) =>
    ((await api({ method: 'addcontact', idgroup, contact })).result as { idcontact: number })
      .idcontact;
  ann = await add('mobile:34600000001,name:Ann');
  bob = await add('mobile:34600000002,name:Bob');
});

const contacts = async () => (await api({ method: 'getcontacts', idgroup })).result;
const callTotal = async () =>
  ((await (await fetch(`${emulator.url}/__emulator/calls`)).json()) as { total: number }).total;

describe('values of other JSON types', () => {
  it('are planted and answered by getcontacts and getcontact as those JSON types', async () => {
    await panel('POST', `groups/${idgroup}/columns`, { field: 'age' });
    await panel('POST', `groups/${idgroup}/columns`, { field: 'vip' });
    const fields = { mobile: 34600000009, name: null, age: { years: 3 }, vip: true };
    const planted = await panel('POST', 'contacts', { account: 'demo', idgroup, fields });
    expect(planted.status).toBe(200);
    const { idcontact } = planted.json as { idcontact: number };
    const body = new URLSearchParams({
      ...{ class: 'group', user: 'demo', password: 'demo', method: 'getcontacts', idgroup },
    });
    const raw = await (await fetch(`${emulator.url}/api/http/`, { method: 'POST', body })).text();
    expect(raw).toContain(
      `{"idcontact":${idcontact},"fields":{"mobile":34600000009,"name":null,"age":{"years":3},"vip":true}}`,
    );
    const one = await api({ method: 'getcontact', idgroup, idcontact: String(idcontact) });
    expect(one.result).toEqual({ idcontact, fields });
  });

  it('count by their text for the main-value checks: a planted number holds its value', async () => {
    await panel('POST', 'contacts', { account: 'demo', idgroup, fields: { mobile: 34600000009 } });
    const again = await api({ method: 'addcontact', idgroup, contact: 'mobile:34600000009' });
    expect(again).toEqual({ status: 'ERROR', error: 'CONTACT_EXISTS' });
  });
});

describe('PATCH /__emulator/groups/:idgroup/contacts/:idcontact', () => {
  it('changes the named fields only, and the main-value index follows', async () => {
    const res = await panel('PATCH', `groups/${idgroup}/contacts/${ann}`, {
      fields: { mobile: '34699999999', name: 7 },
    });
    expect(res).toEqual({
      status: 200,
      json: { idcontact: ann, fields: { mobile: '34699999999', name: 7 } },
    });
    expect(await contacts()).toEqual([
      { idcontact: ann, fields: { mobile: '34699999999', name: 7 } },
      { idcontact: bob, fields: { mobile: '34600000002', name: 'Bob' } },
    ]);
    // The old value is free again, the new one is held.
    const reuse = await api({ method: 'addcontact', idgroup, contact: 'mobile:34600000001' });
    expect(reuse.status).toBe('SUCCESS');
    const clash = await api({ method: 'addcontact', idgroup, contact: 'mobile:34699999999' });
    expect(clash.error).toBe('CONTACT_EXISTS');
  });

  it('may give a main value another contact holds, as drift the API would refuse', async () => {
    const res = await panel('PATCH', `groups/${idgroup}/contacts/${bob}`, {
      fields: { mobile: '34600000001' },
    });
    expect(res.status).toBe(200);
    const mains = (await contacts()) as { fields: { mobile: string } }[];
    expect(mains.map((c) => c.fields.mobile)).toEqual(['34600000001', '34600000001']);
  });

  it.each([
    ['an unknown column', () => `groups/${idgroup}/contacts/${ann}`, { fields: { x: '1' } }, 400],
    ['an unknown key', () => `groups/${idgroup}/contacts/${ann}`, { fields: {}, y: 1 }, 400],
    ['a body that is not JSON', () => `groups/${idgroup}/contacts/${ann}`, '{', 400],
    ['an unknown contact', () => `groups/${idgroup}/contacts/999999`, { fields: {} }, 404],
    ['an unknown group', () => `groups/999999/contacts/${ann}`, { fields: {} }, 404],
  ])('refuses %s (%#) and changes nothing', async (_, path, body, status) => {
    const before = await contacts();
    const res = await panel('PATCH', path(), body);
    expect(res.status).toBe(status);
    expect(res.json).toMatchObject({ error: expect.any(String) as string });
    expect(await contacts()).toEqual(before);
  });
});

describe('DELETE /__emulator/groups/:idgroup/contacts/:idcontact', () => {
  it('removes the contact and frees its main value; a second delete is 404', async () => {
    expect(await panel('DELETE', `groups/${idgroup}/contacts/${ann}`)).toEqual({
      status: 200,
      json: { deleted: true },
    });
    expect(await contacts()).toEqual([
      { idcontact: bob, fields: { mobile: '34600000002', name: 'Bob' } },
    ]);
    expect((await api({ method: 'getcontact', idgroup, idcontact: String(ann) })).error).toBe(
      'NOT_ACCESS_TO_CONTACT',
    );
    expect((await panel('DELETE', `groups/${idgroup}/contacts/${ann}`)).status).toBe(404);
    const reuse = await api({ method: 'addcontact', idgroup, contact: 'mobile:34600000001' });
    expect(reuse.status).toBe('SUCCESS');
  });
});

describe('POST /__emulator/groups/:idgroup/columns', () => {
  it('appends a column with a value per contact named, "" for the others', async () => {
    const res = await panel('POST', `groups/${idgroup}/columns`, {
      field: 'birthday',
      values: { [String(ann)]: '1990-01-01' },
    });
    expect(res).toEqual({ status: 200, json: { fields: ['mobile', 'name', 'birthday'] } });
    expect((await api({ method: 'getgroupcolumns', idgroup })).result).toEqual([
      'mobile',
      'name',
      'birthday',
    ]);
    expect(await contacts()).toEqual([
      { idcontact: ann, fields: { mobile: '34600000001', name: 'Ann', birthday: '1990-01-01' } },
      { idcontact: bob, fields: { mobile: '34600000002', name: 'Bob', birthday: '' } },
    ]);
  });

  it.each([
    ['an existing column', { field: 'name' }, 409],
    ['a contact not in the group', { field: 'b', values: { '999999': 'x' } }, 400],
    ['an empty name', { field: '  ' }, 400],
  ])('refuses %s and adds nothing', async (_, body, status) => {
    expect((await panel('POST', `groups/${idgroup}/columns`, body)).status).toBe(status);
    expect((await api({ method: 'getgroupcolumns', idgroup })).result).toEqual(['mobile', 'name']);
  });
});

describe('DELETE /__emulator/groups/:idgroup/columns/:field', () => {
  it('drops the column and its values; adding it back through the API brings ""', async () => {
    await panel('POST', `groups/${idgroup}/columns`, {
      field: 'fecha nacimiento',
      values: { [String(bob)]: 1990 },
    });
    const res = await panel('DELETE', `groups/${idgroup}/columns/fecha%20nacimiento`);
    expect(res).toEqual({ status: 200, json: { fields: ['mobile', 'name'] } });
    await api({ method: 'addcolumntogroup', idgroup, field: 'fecha nacimiento' });
    const after = (await contacts()) as { fields: Record<string, unknown> }[];
    expect(after.map((c) => c.fields['fecha nacimiento'])).toEqual(['', '']);
  });

  it('refuses the main field (400) and an unknown column (404)', async () => {
    expect((await panel('DELETE', `groups/${idgroup}/columns/mobile`)).status).toBe(400);
    expect((await panel('DELETE', `groups/${idgroup}/columns/nothing`)).status).toBe(404);
    expect((await panel('DELETE', `groups/${idgroup}/columns/%E0`)).status).toBe(400);
    expect((await api({ method: 'getgroupcolumns', idgroup })).result).toEqual(['mobile', 'name']);
  });
});

describe('POST /__emulator/groups', () => {
  it('makes a group the API then serves, with its id even in strict-docs mode', async () => {
    const strict = await startEmulator({ strictDocs: true });
    try {
      const res = await fetch(`${strict.url}/__emulator/groups`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          account: 'demo',
          name: 'Made',
          type: 'email',
          fields: ['email', 'name', 'email'],
        }),
      });
      expect(res.status).toBe(200);
      const { idgroup: made } = (await res.json()) as { idgroup: number };
      const body = new URLSearchParams({
        class: 'group',
        user: 'demo',
        password: 'demo',
        method: 'getgroupcolumns',
        idgroup: String(made),
      });
      const columns = (await (
        await fetch(`${strict.url}/api/http/`, { method: 'POST', body })
      ).json()) as Answer;
      expect(columns).toMatchObject({ status: 'SUCCESS', result: ['email', 'name'] });
    } finally {
      await strict.close();
    }
  });

  it('refuses fields without the main field and an unknown type (400), making nothing', async () => {
    const groups = async () =>
      ((await (await fetch(`${emulator.url}/__emulator/state`)).json()) as { groups: unknown[] })
        .groups.length;
    const before = await groups();
    expect(
      (
        await panel('POST', 'groups', {
          account: 'demo',
          name: 'X',
          type: 'mobile',
          fields: ['name'],
        })
      ).status,
    ).toBe(400);
    expect(
      (await panel('POST', 'groups', { account: 'demo', name: 'X', type: 'fax', fields: ['fax'] }))
        .status,
    ).toBe(400);
    expect(await groups()).toBe(before);
  });
});

describe('the panel routes', () => {
  it('are never counted, rate limited or faulted', async () => {
    const before = await callTotal();
    await fetch(`${emulator.url}/__emulator/faults`, {
      method: 'POST',
      body: JSON.stringify({ rateLimitPerSecond: 1, errorRate: 1, accountError: 'NO_CREDITS' }),
    });
    const edits = [
      await panel('PATCH', `groups/${idgroup}/contacts/${ann}`, { fields: { name: 'Ana' } }),
      await panel('POST', `groups/${idgroup}/columns`, { field: 'city' }),
      await panel('DELETE', `groups/${idgroup}/columns/city`),
      await panel('DELETE', `groups/${idgroup}/contacts/${bob}`),
      await panel('POST', 'contacts', { account: 'demo', idgroup, fields: { mobile: '3' } }),
      await panel('POST', 'groups', {
        account: 'demo',
        name: 'P',
        type: 'mobile',
        fields: ['mobile'],
      }),
    ];
    expect(edits.map((edit) => edit.status)).toEqual([200, 200, 200, 200, 200, 200]);
    expect(await callTotal()).toBe(before);
  });

  it('answer 404 JSON for a path they do not have', async () => {
    for (const path of [
      `groups/${idgroup}`,
      `groups/${idgroup}/other`,
      `groups/${idgroup}/columns/a/b`,
    ]) {
      const res = await panel('GET', path);
      expect(res.status).toBe(404);
      expect(res.json).toMatchObject({ error: expect.any(String) as string });
    }
  });
});
