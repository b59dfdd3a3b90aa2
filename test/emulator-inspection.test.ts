import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CallLog, REQUEST_LOG_SIZE } from '../src/emulator/call-log.ts';
import { startEmulator, type LoggedCall, type RunningEmulator } from '../src/emulator/index.ts';

// What tests and demos read under /__emulator/: state, counters, the request log, reset — and
// that no password can ever be read back from any of them.

const SECRET = 'S3cret:pa&ss=word';
const ALICE = { user: 'alice', password: SECRET };

let emulator: RunningEmulator;

beforeAll(async () => {
  emulator = await startEmulator({ accounts: [{ user: 'demo', password: 'demo' }, ALICE] });
});

afterAll(() => emulator.close());

beforeEach(async () => {
  await fetch(`${emulator.url}/__emulator/reset`, { method: 'POST' });
});

async function api(params: Record<string, string>, as = ALICE): Promise<{ result?: unknown }> {
  const body = new URLSearchParams({ class: 'group', ...as, ...params });
  const res = await fetch(`${emulator.url}/api/http/`, { method: 'POST', body });
  return (await res.json()) as { result?: unknown };
}

async function inspect<T>(path: string): Promise<T> {
  return (await (await fetch(`${emulator.url}/__emulator/${path}`)).json()) as T;
}

const CREATE = { method: 'creategroup', name: 'G', type: 'mobile', fields: 'mobile,name' };

describe('GET /__emulator/state', () => {
  it('shows every group with its account, fields, country and contacts', async () => {
    const { result } = await api(CREATE);
    const idgroup = String((result as { idgroup: number }).idgroup);
    await api({ method: 'assigncountrytogroup', idgroup, countryiso3: 'ESP' });
    await api({ method: 'addcontact', idgroup, contact: 'mobile:111,name:Ann' });
    await api({ ...CREATE, name: 'Theirs' }, { user: 'demo', password: 'demo' });
    const state = await inspect<{ groups: unknown[] }>('state');
    expect(state.groups).toEqual([
      {
        account: 'alice',
        idgroup: Number(idgroup),
        name: 'G',
        type: 'mobile',
        fields: ['mobile', 'name'],
        country: 'esp',
        contacts: [
          { idcontact: expect.any(Number) as number, fields: { mobile: '111', name: 'Ann' } },
        ],
      },
      expect.objectContaining({ account: 'demo', name: 'Theirs', country: null, contacts: [] }),
    ]);
  });

  it('shows one account’s groups with ?account=', async () => {
    await api(CREATE);
    await api({ ...CREATE, name: 'Theirs' }, { user: 'demo', password: 'demo' });
    const state = await inspect<{ groups: { name: string }[] }>('state?account=demo');
    expect(state.groups.map((group) => group.name)).toEqual(['Theirs']);
  });
});

describe('GET /__emulator/calls', () => {
  it('counts every call that reached the API, errors included, and each method', async () => {
    await api(CREATE);
    await api(CREATE);
    await api({ method: 'getcontacts', idgroup: '999999' });
    await fetch(`${emulator.url}/api/http/?method=getcontacts`);
    await fetch(`${emulator.url}/api/http/`);
    await fetch(`${emulator.url}/__emulator/state`);
    expect(await inspect('calls')).toEqual({
      total: 5,
      byMethod: { creategroup: 2, getcontacts: 2 },
      rejected: { rate_limited: 0, fault: 0 },
    });
  });
});

describe('GET /__emulator/requests', () => {
  it('logs each call with its time, path, method, credentials’ way and outcome', async () => {
    const before = Date.now();
    await api(CREATE);
    const query = new URLSearchParams({
      class: 'group',
      method: 'getcontacts',
      idgroup: '99',
      ...ALICE,
    });
    await fetch(`${emulator.url}/api/http?${query.toString()}`);
    await fetch(`${emulator.url}/api/http/?class=group&method=nope`, {
      headers: { authorization: `Basic ${Buffer.from(`alice:${SECRET}`).toString('base64')}` },
    });
    const log = await inspect<LoggedCall[]>('requests');
    expect(log).toEqual([
      expect.objectContaining({ httpMethod: 'POST', path: '/api/http/', method: 'creategroup' }),
      expect.objectContaining({ httpMethod: 'GET', method: 'getcontacts' }),
      expect.objectContaining({ path: '/api/http/?class=group&method=nope', method: 'nope' }),
    ]);
    expect(log.map((call) => [call.auth, call.passwordInUrl, call.outcome])).toEqual([
      ['post', false, 'SUCCESS'],
      ['get', true, 'ERROR:NOT_ACCESS_TO_GROUP'],
      ['basic', false, 'ERROR:INCORRECT_METHOD'],
    ]);
    expect(log[1]?.path).toBe(
      '/api/http?class=group&method=getcontacts&idgroup=99&user=alice&password=[redacted]',
    );
    expect(log[0]?.at).toBeGreaterThanOrEqual(before - 1);
    expect(log[0]?.at).toBeLessThanOrEqual(Date.now() + 1);
  });

  it('logs null as the method of a call that named none', async () => {
    await fetch(`${emulator.url}/api/http/`);
    expect(await inspect<LoggedCall[]>('requests')).toMatchObject([
      { method: null, outcome: 'ERROR:MISSING_USER' },
    ]);
  });

  it('keeps only the last 100,000 calls, oldest first', () => {
    const log = new CallLog();
    const call = (n: number): LoggedCall => ({
      at: n,
      httpMethod: 'GET',
      path: '/api/http/',
      method: null,
      passwordInUrl: false,
      auth: 'get',
      outcome: 'SUCCESS',
    });
    for (let n = 1; n <= REQUEST_LOG_SIZE + 5; n++) log.record(call(n));
    const entries = log.entries();
    expect(REQUEST_LOG_SIZE).toBe(100_000);
    expect(entries).toHaveLength(REQUEST_LOG_SIZE);
    expect(entries[0]?.at).toBe(6);
    expect(entries.at(-1)?.at).toBe(REQUEST_LOG_SIZE + 5);
  });
});

describe('passwords', () => {
  it('are never readable from the log, the counters or the state, however they were sent', async () => {
    const encoded = encodeURIComponent(SECRET);
    const { result } = await api(CREATE);
    const idgroup = String((result as { idgroup: number }).idgroup);
    await fetch(
      `${emulator.url}/api/http/?class=group&method=getcontacts&user=alice&password=${encoded}&idgroup=${idgroup}`,
    );
    await fetch(`${emulator.url}/api/http/?class=group&user=alice&pass%77ord=${encoded}&method=x`);
    await fetch(`${emulator.url}/api/http/?password=${encoded}&password=Wr0ng-Guess&user=alice`);
    const form = new FormData();
    form.append('password', 'Wr0ng-Guess');
    await fetch(`${emulator.url}/api/http/?user=alice`, { method: 'POST', body: form });
    await api({ method: 'addcontact', idgroup, contact: `mobile:1,name:x` });
    const texts = await Promise.all(
      ['requests', 'calls', 'state'].map(async (path) =>
        (await fetch(`${emulator.url}/__emulator/${path}`)).text(),
      ),
    );
    for (const text of texts) {
      for (const secret of [SECRET, encoded, 'S3cret', 'Wr0ng-Guess'])
        expect(text).not.toContain(secret);
    }
    expect(texts[0]).toContain('pass%77ord=[redacted]');
    expect(texts[0]?.match(/\[redacted\]/g)).toHaveLength(4);
  });
});

describe('POST /__emulator/reset', () => {
  it('empties the state, the counters and the log, and turns every fault off', async () => {
    await api(CREATE);
    await fetch(`${emulator.url}/__emulator/faults`, {
      method: 'POST',
      body: JSON.stringify({
        latencyMs: 5,
        rateLimitPerSecond: 100,
        appliedThenErrorRate: 0.5,
        retryAfterSeconds: 60,
        accountError: 'NO_CREDITS',
      }),
    });
    const res = await fetch(`${emulator.url}/__emulator/reset`, { method: 'POST' });
    expect(res.status).toBe(200);
    expect(await inspect('state')).toEqual({ groups: [] });
    expect(await inspect('calls')).toEqual({
      total: 0,
      byMethod: {},
      rejected: { rate_limited: 0, fault: 0 },
    });
    expect(await inspect('requests')).toEqual([]);
    expect(await inspect('faults')).toEqual({
      latencyMs: 0,
      errorRate: 0,
      resetRate: 0,
      appliedThenResetRate: 0,
      appliedThenErrorRate: 0,
      appliedThenErrorStatus: 0,
      rateLimitPerSecond: 0,
      retryAfterSeconds: null,
      retryAfterForm: 'seconds',
      accountError: null,
      accountErrorForMs: 0,
    });
  });

  it('answers 404 JSON for a route it does not have', async () => {
    const res = await fetch(`${emulator.url}/__emulator/nothing`);
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: expect.any(String) as string });
  });
});
