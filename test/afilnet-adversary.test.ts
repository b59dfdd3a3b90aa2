import { request } from 'undici';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../src/emulator/index.ts';
import {
  AfilnetAmbiguousError,
  AfilnetApiError,
  AfilnetClient,
  AfilnetRetryableError,
  type AfilnetError,
  type CallInfo,
  type UnreadableContact,
} from '../src/afilnet/index.ts';

// The client against the emulator's wider adversary, over real HTTP: remote values of other JSON
// types (F10), 5xx answers after the call was applied (F7), account-level refusals (F11) and
// Retry-After values of any size.

const USER = 'adversary-user';
const PASSWORD = 'never-in-a-message-9f2c';

let emulator: RunningEmulator;
const clients: AfilnetClient[] = [];
const reports: CallInfo[] = [];

beforeAll(async () => {
  emulator = await startEmulator({ accounts: [{ user: USER, password: PASSWORD }] });
});

afterAll(() => emulator.close());

beforeEach(async () => {
  reports.length = 0;
  await request(`${emulator.url}/__emulator/reset`, { method: 'POST' }).then((r) => r.body.dump());
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

function newClient(password = PASSWORD): AfilnetClient {
  const client = new AfilnetClient({
    baseUrl: emulator.url,
    user: USER,
    password,
    auth: 'post',
    hooks: { afterCall: (info) => reports.push(info) },
  });
  clients.push(client);
  return client;
}

async function emulatorCall(method: string, path: string, body: unknown): Promise<unknown> {
  const res = await request(`${emulator.url}/__emulator/${path}`, {
    method: method as 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const json = await res.body.json();
  expect(res.statusCode).toBe(200);
  return json;
}

const setFaults = (faults: Record<string, unknown>) => emulatorCall('POST', 'faults', faults);

async function failureOf(call: Promise<unknown>): Promise<AfilnetError> {
  const outcome = await call.then(
    () => undefined,
    (error: unknown) => error,
  );
  if (outcome === undefined) throw new Error('expected the call to fail');
  return outcome as AfilnetError;
}

async function groupWith(client: AfilnetClient, fields: string[]): Promise<string> {
  const { idgroup } = await client.creategroup({ name: 'g', type: 'mobile', fields });
  if (idgroup === null) throw new Error('the emulator returns ids outside strict-docs mode');
  return idgroup;
}

/** Plants a contact the way the panel could, with values of any JSON type. */
async function plant(idgroup: string, fields: Record<string, unknown>): Promise<string> {
  const planted = await emulatorCall('POST', 'contacts', { account: USER, idgroup, fields });
  return String((planted as { idcontact: number }).idcontact);
}

describe('remote values of other JSON types (F10)', () => {
  it('reads numbers as their text, booleans as "true"/"false" and null as ""', async () => {
    const client = newClient();
    const idgroup = await groupWith(client, ['mobile', 'name', 'vip', 'age']);
    const id = await plant(idgroup, { mobile: 34600000009, name: null, vip: true, age: 41.5 });
    const expected = {
      idcontact: id,
      fields: { mobile: '34600000009', name: '', vip: 'true', age: '41.5' },
    };
    expect(await client.getcontacts(idgroup)).toEqual([expected]);
    expect(await client.getcontact(idgroup, id)).toEqual(expected);
  });

  it('skips a contact holding an object or array, reports it, and streams the rest', async () => {
    const client = newClient();
    const idgroup = await groupWith(client, ['mobile', 'name', 'tags']);
    const first = await plant(idgroup, { mobile: '1', name: 'A' });
    const nested = await plant(idgroup, { mobile: '2', name: { first: 'B' }, tags: ['x'] });
    const last = await plant(idgroup, { mobile: '3', vip: false });
    const unreadable: UnreadableContact[] = [];
    const read = [];
    for await (const contact of client.streamContacts(idgroup, {
      onUnreadable: (entry) => unreadable.push(entry),
    })) {
      read.push(contact.idcontact);
    }
    expect(read).toEqual([first, last]);
    expect(unreadable).toEqual([
      {
        index: 1,
        idcontact: nested,
        reason: 'unreadable_value',
        badFields: ['name', 'tags'],
        fields: { mobile: '2' },
      },
    ]);
    expect(reports.at(-1)).toMatchObject({
      method: 'getcontacts',
      outcome: 'success',
      unreadableContacts: 1,
    });
    // Without a callback the stream still never fails; getcontacts passes the option on.
    expect((await client.getcontacts(idgroup)).map((c) => c.idcontact)).toEqual([first, last]);
    const seen: number[] = [];
    await client.getcontacts(idgroup, { onUnreadable: (entry) => seen.push(entry.index) });
    expect(seen).toEqual([1]);
  });

  it('lets a throwing onUnreadable end the stream with its own error', async () => {
    const client = newClient();
    const idgroup = await groupWith(client, ['mobile', 'name']);
    await plant(idgroup, { mobile: '1', name: [1] });
    const stop = new Error('stop here');
    const error = await failureOf(
      client.getcontacts(idgroup, {
        onUnreadable: () => {
          throw stop;
        },
      }),
    );
    expect(error).toBe(stop);
  });
});

describe('5xx after the provider applied the call (F7)', () => {
  it.each([502, 503, 504])('calls HTTP %i ambiguous, keeping the status', async (status) => {
    const client = newClient();
    const idgroup = await groupWith(client, ['mobile']);
    await setFaults({ appliedThenErrorRate: 1, appliedThenErrorStatus: status });
    const error = await failureOf(client.addcontact(idgroup, { mobile: '34600000001' }));
    expect(error).toBeInstanceOf(AfilnetAmbiguousError);
    expect(error).toMatchObject({ kind: 'ambiguous', reason: 'server_error', status });
    expect(error.message).toContain(String(status));
    expect(reports.at(-1)).toMatchObject({ method: 'addcontact', outcome: 'ambiguous' });
    await setFaults({ appliedThenErrorRate: 0 });
    const contacts = await client.getcontacts(idgroup);
    expect(contacts.map((c) => c.fields.mobile)).toEqual(['34600000001']);
  });

  it('calls a creategroup answered 502 ambiguous, and the group exists', async () => {
    const client = newClient();
    await setFaults({ appliedThenErrorRate: 1, appliedThenErrorStatus: 502 });
    const error = await failureOf(groupWith(client, ['mobile']));
    expect(error).toMatchObject({ kind: 'ambiguous', method: 'creategroup', status: 502 });
    const state = await request(`${emulator.url}/__emulator/state`).then((r) => r.body.json());
    expect((state as { groups: unknown[] }).groups).toHaveLength(1);
  });
});

describe('account-level answers (F11)', () => {
  it.each([
    ['INCORRECT_USER_PASSWORD', 'account'],
    ['NO_CREDITS', 'account'],
    ['NOT_ENOUGH_CREDITS', 'account'],
    ['ACCOUNT_BLOCKED', 'account'],
    ['SOMETHING_NEW', 'call'],
  ])('gives %s the scope %s, on any method', async (code, scope) => {
    const client = newClient();
    const idgroup = await groupWith(client, ['mobile']);
    await setFaults({ accountError: code });
    for (const call of [client.getcontacts(idgroup), client.deletegroup(idgroup)]) {
      const error = await failureOf(call);
      expect(error).toBeInstanceOf(AfilnetApiError);
      expect(error).toMatchObject({ kind: 'api', code, scope });
      expect(error.message).not.toContain(PASSWORD);
    }
    expect(reports.at(-1)).toMatchObject({ outcome: 'api_error', apiCode: code, apiScope: scope });
  });

  it('gives a real wrong password the account scope, without the password anywhere', async () => {
    const error = await failureOf(newClient('wrong-secret-7d1e').getgroupcolumns('1'));
    expect(error).toMatchObject({ code: 'INCORRECT_USER_PASSWORD', scope: 'account' });
    const whole = JSON.stringify(error, Object.getOwnPropertyNames(error));
    expect(whole).not.toContain('wrong-secret-7d1e');
  });

  it('gives NOT_ACCESS_TO_GROUP the group scope and other refusals the call scope', async () => {
    const client = newClient();
    const idgroup = await groupWith(client, ['mobile']);
    expect(await failureOf(client.getcontacts('999999'))).toMatchObject({
      code: 'NOT_ACCESS_TO_GROUP',
      scope: 'group',
    });
    await client.addcontact(idgroup, { mobile: '1' });
    expect(await failureOf(client.addcontact(idgroup, { mobile: '1' }))).toMatchObject({
      code: 'CONTACT_EXISTS',
      scope: 'call',
    });
  });
});

describe('Retry-After chosen by the provider', () => {
  async function rateLimited(client: AfilnetClient): Promise<AfilnetRetryableError> {
    await setFaults({ rateLimitPerSecond: 1 });
    const errors = await Promise.all(
      [1, 2].map(() =>
        client.getgroupcolumns('1').then(
          () => undefined,
          (e: unknown) => e,
        ),
      ),
    );
    const limited = errors.find((e) => e instanceof AfilnetRetryableError);
    expect(limited).toBeDefined();
    return limited as AfilnetRetryableError;
  }

  it.each([
    [86_400, 86_400_000],
    [3_000_000_000, 3_000_000_000_000],
  ])('passes Retry-After: %i on as %i ms, uncapped', async (seconds, ms) => {
    const client = newClient();
    await setFaults({ retryAfterSeconds: seconds });
    const error = await rateLimited(client);
    expect(error).toMatchObject({ reason: 'rate_limited', status: 429, retryAfterMs: ms });
  });

  it('reads the HTTP-date form as the time left until then', async () => {
    const client = newClient();
    await setFaults({ retryAfterSeconds: 90, retryAfterForm: 'http-date' });
    const { retryAfterMs } = await rateLimited(client);
    expect(retryAfterMs).toBeGreaterThan(80_000);
    expect(retryAfterMs).toBeLessThanOrEqual(90_000);
  });
});
