import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { COUNTRY_CODES } from '../src/emulator/country-codes.ts';
import { startEmulator, type RunningEmulator } from '../src/emulator/index.ts';

// Every error code on its condition, and which one wins when several apply (the order the
// emulator's README documents).

let emulator: RunningEmulator;

beforeAll(async () => {
  emulator = await startEmulator({
    accounts: [
      { user: 'demo', password: 'demo' },
      { user: 'other', password: 'other-pw' },
    ],
  });
});

afterAll(() => emulator.close());

beforeEach(async () => {
  await fetch(`${emulator.url}/__emulator/reset`, { method: 'POST' });
});

type Params = Record<string, string>;
const DEMO = { user: 'demo', password: 'demo', class: 'group' };

/** Posts raw parameters (no defaults) and returns the parsed answer. */
async function raw(params: Params): Promise<{ status: string; error?: string; result?: unknown }> {
  const res = await fetch(`${emulator.url}/api/http/`, {
    method: 'POST',
    body: new URLSearchParams(params),
  });
  expect(res.status).toBe(200);
  return (await res.json()) as { status: string; error?: string; result?: unknown };
}

async function errorOf(params: Params): Promise<string | undefined> {
  return (await raw(params)).error;
}

async function created(params: Params, as = DEMO): Promise<string> {
  const answer = (await raw({ ...as, ...params })) as { result: Record<string, number> };
  return String(Object.values(answer.result)[0]);
}

async function newGroup(as = DEMO): Promise<string> {
  const params = { method: 'creategroup', name: 'G', type: 'mobile', fields: 'mobile,name' };
  return created(params, as);
}

describe('the common checks, in order', () => {
  const cases: [string, Params][] = [
    ['MISSING_USER', { password: 'x' }],
    ['MISSING_USER', { user: '  ', password: 'demo', class: 'group', method: 'creategroup' }],
    ['MISSING_PASSWORD', { user: 'nobody' }],
    ['MISSING_CLASS', { user: 'nobody', password: 'wrong' }],
    ['MISSING_METHOD', { user: 'nobody', password: 'wrong', class: 'nope' }],
    ['INCORRECT_USER_PASSWORD', { user: 'demo', password: 'wrong', class: 'x', method: 'y' }],
    ['INCORRECT_USER_PASSWORD', { user: 'nobody', password: 'demo', class: 'group', method: 'y' }],
    ['INCORRECT_CLASS', { ...DEMO, class: 'sms', method: 'nope' }],
    ['INCORRECT_CLASS', { ...DEMO, class: 'Group', method: 'creategroup' }],
    ['INCORRECT_METHOD', { ...DEMO, method: 'nope' }],
    ['MISSING_COMPULSORY_PARAM', { ...DEMO, method: 'creategroup', type: 'sms', name: 'G' }],
  ];
  it.each(cases)('answers %s for %j', async (code, params) => {
    expect(await errorOf(params)).toBe(code);
  });

  it('answers HTTP 200 with compact JSON naming the code', async () => {
    const res = await fetch(`${emulator.url}/api/http/`, { method: 'POST' });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('{"status":"ERROR","error":"MISSING_USER"}');
  });

  it('checks Basic credentials like user and password parameters', async () => {
    const res = await fetch(`${emulator.url}/api/http/?class=group&method=getgroupcolumns`, {
      headers: { authorization: `Basic ${Buffer.from('demo:wrong').toString('base64')}` },
    });
    expect(await res.json()).toEqual({ status: 'ERROR', error: 'INCORRECT_USER_PASSWORD' });
  });
});

describe('compulsory parameters', () => {
  const methods: [string, string[]][] = [
    ['creategroup', ['name', 'type', 'fields']],
    ['getgroupcolumns', ['idgroup']],
    ['addcolumntogroup', ['idgroup', 'field']],
    ['deletecolumnfromgroup', ['idgroup', 'field']],
    ['deletegroup', ['idgroup']],
    ['assigncountrytogroup', ['idgroup', 'countryiso3']],
    ['getcontacts', ['idgroup']],
    ['getcontact', ['idgroup', 'idcontact']],
    ['addcontact', ['idgroup', 'contact']],
    ['addcontactlist', ['idgroup', 'contacts']],
    ['modifycontact', ['idgroup', 'idcontact', 'contact']],
    ['deletecontact', ['idgroup', 'idcontact']],
  ];
  it.each(methods)(
    '%s answers MISSING_COMPULSORY_PARAM without any of %j',
    async (method, names) => {
      const idgroup = await newGroup();
      const full: Params = { name: 'G', type: 'mobile', fields: 'mobile', idgroup, field: 'x' };
      Object.assign(full, { countryiso3: 'esp', idcontact: '1', contact: 'mobile:1' });
      Object.assign(full, { contacts: '[{"mobile":"1"}]' });
      for (const name of names) {
        const params: Params = { ...DEMO, method };
        for (const other of names) if (other !== name) params[other] = full[other] ?? '';
        expect(await errorOf(params)).toBe('MISSING_COMPULSORY_PARAM');
        expect(await errorOf({ ...params, [name]: ' ' })).toBe('MISSING_COMPULSORY_PARAM');
      }
    },
  );

  it('answers MISSING_COMPULSORY_PARAM for contacts that are not a JSON array of objects', async () => {
    const idgroup = await newGroup();
    const bad = [
      'not json',
      '{"mobile":"1"}',
      '["1"]',
      '[[]]',
      '[{"mobile":{"a":1}}]',
      '[{"a":true}]',
    ];
    for (const contacts of bad) {
      expect(await errorOf({ ...DEMO, method: 'addcontactlist', idgroup, contacts })).toBe(
        'MISSING_COMPULSORY_PARAM',
      );
    }
  });

  it('checks the contacts list before the group', async () => {
    const params = { ...DEMO, method: 'addcontactlist', idgroup: '999999', contacts: '{}' };
    expect(await errorOf(params)).toBe('MISSING_COMPULSORY_PARAM');
  });
});

describe('creategroup', () => {
  const create = { ...DEMO, method: 'creategroup', name: 'G' };

  it('answers INCORRECT_TYPE for a type other than mobile or email, before the main field', async () => {
    expect(await errorOf({ ...create, type: 'sms', fields: 'name' })).toBe('INCORRECT_TYPE');
    expect(await errorOf({ ...create, type: 'Mobile', fields: 'mobile' })).toBe('INCORRECT_TYPE');
  });

  it('answers MISSING_MAIN_FIELD when the fields lack the type’s main field', async () => {
    expect(await errorOf({ ...create, type: 'email', fields: 'mobile,name' })).toBe(
      'MISSING_MAIN_FIELD',
    );
    expect(await errorOf({ ...create, type: 'mobile', fields: 'email, ,name' })).toBe(
      'MISSING_MAIN_FIELD',
    );
  });
});

describe('access to groups and contacts', () => {
  it('answers NOT_ACCESS_TO_GROUP for a missing, malformed or another account’s group', async () => {
    const theirs = await newGroup({ user: 'other', password: 'other-pw', class: 'group' });
    for (const idgroup of ['999999', 'abc', '-1', '0', '1.5', theirs]) {
      expect(await errorOf({ ...DEMO, method: 'getcontacts', idgroup })).toBe(
        'NOT_ACCESS_TO_GROUP',
      );
    }
  });

  it('checks the group before the contact', async () => {
    const params = { ...DEMO, method: 'getcontact', idgroup: '999999', idcontact: '999999' };
    expect(await errorOf(params)).toBe('NOT_ACCESS_TO_GROUP');
  });

  it('answers NOT_ACCESS_TO_CONTACT for a missing contact or one of another group', async () => {
    const first = await newGroup();
    const second = await newGroup();
    const add = { ...DEMO, method: 'addcontact', contact: 'mobile:34600000001' };
    const idcontact = await created({ ...add, idgroup: first });
    for (const method of ['getcontact', 'modifycontact', 'deletecontact']) {
      const params = { ...DEMO, method, contact: 'name:x' };
      expect(await errorOf({ ...params, idgroup: second, idcontact })).toBe(
        'NOT_ACCESS_TO_CONTACT',
      );
      expect(await errorOf({ ...params, idgroup: first, idcontact: '999999' })).toBe(
        'NOT_ACCESS_TO_CONTACT',
      );
    }
  });
});

describe('assigncountrytogroup', () => {
  it('answers COUNTRY_NOT_FOUND for anything but an ISO 3166-1 alpha-3 code', async () => {
    const idgroup = await newGroup();
    for (const countryiso3 of ['es', 'xyz', 'spain', 'esp ']) {
      const params = { ...DEMO, method: 'assigncountrytogroup', idgroup, countryiso3 };
      expect(await errorOf(params)).toBe('COUNTRY_NOT_FOUND');
    }
  });

  it('checks the group before the country', async () => {
    const params = { ...DEMO, method: 'assigncountrytogroup', idgroup: '999999' };
    expect(await errorOf({ ...params, countryiso3: 'xyz' })).toBe('NOT_ACCESS_TO_GROUP');
  });

  it('knows all 249 officially assigned codes', () => {
    expect(COUNTRY_CODES.size).toBe(249);
    for (const code of ['esp', 'usa', 'ala', 'bes', 'ssd', 'xkx']) {
      expect(COUNTRY_CODES.has(code)).toBe(code !== 'xkx');
    }
  });
});

describe('CONTACT_EXISTS', () => {
  it('answers CONTACT_EXISTS when the main value is already in the group', async () => {
    const idgroup = await newGroup();
    const add = { ...DEMO, method: 'addcontact', idgroup, contact: 'mobile:34600000001' };
    expect((await raw(add)).status).toBe('SUCCESS');
    expect(await errorOf({ ...add, contact: 'mobile:34600000001,name:Other' })).toBe(
      'CONTACT_EXISTS',
    );
  });

  it('checks the main field before whether the value exists', async () => {
    const idgroup = await newGroup();
    const add = { ...DEMO, method: 'addcontact', idgroup };
    expect(await errorOf({ ...add, contact: 'name:No mobile' })).toBe('MISSING_MAIN_FIELD');
    expect(await errorOf({ ...add, contact: 'mobile:,name:Empty' })).toBe('MISSING_MAIN_FIELD');
  });
});
