import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../src/emulator/index.ts';

// The emulator as a whole: how it starts and stops, and every transport the provider's page
// offers (GET query, urlencoded POST, multipart POST, Basic auth on either).

let emulator: RunningEmulator;

beforeAll(async () => {
  emulator = await startEmulator();
});

afterAll(() => emulator.close());

beforeEach(async () => {
  await fetch(`${emulator.url}/__emulator/reset`, { method: 'POST' });
});

const CREATE = {
  class: 'group',
  method: 'creategroup',
  name: 'G',
  type: 'mobile',
  fields: 'mobile',
};
const CREATED = { status: 'SUCCESS', result: { idgroup: expect.any(Number) as number } };
const DEMO_BASIC = `Basic ${Buffer.from('demo:demo').toString('base64')}`;

async function answerOf(res: Response): Promise<unknown> {
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  return JSON.parse(await res.text()) as unknown;
}

async function groupNames(): Promise<string[]> {
  const res = await fetch(`${emulator.url}/__emulator/state`);
  const state = (await res.json()) as { groups: { name: string }[] };
  return state.groups.map((group) => group.name);
}

describe('startEmulator', () => {
  it('listens on 127.0.0.1 and a free port, and gives its URL without a trailing slash', () => {
    expect(emulator.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('stops listening on close', async () => {
    const other = await startEmulator();
    await other.close();
    await expect(fetch(`${other.url}/__emulator/calls`)).rejects.toThrow();
  });

  it('closes at once, cutting answers still held back by latency', async () => {
    const other = await startEmulator();
    await fetch(`${other.url}/__emulator/faults`, {
      method: 'POST',
      body: JSON.stringify({ latencyMs: 10_000 }),
    });
    const query = new URLSearchParams({ ...CREATE, user: 'demo', password: 'demo' });
    const held = fetch(`${other.url}/api/http/?${query.toString()}`).then(
      () => 'answered',
      () => 'cut',
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    const started = performance.now();
    await other.close();
    expect(await held).toBe('cut');
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('lets only the given accounts in, replacing the demo account', async () => {
    const other = await startEmulator({ accounts: [{ user: 'ana', password: 'pw-ana' }] });
    try {
      const as = (user: string, password: string) =>
        fetch(
          `${other.url}/api/http/?${new URLSearchParams({ ...CREATE, user, password }).toString()}`,
        );
      expect(await answerOf(await as('ana', 'pw-ana'))).toEqual(CREATED);
      expect(await answerOf(await as('demo', 'demo'))).toEqual({
        status: 'ERROR',
        error: 'INCORRECT_USER_PASSWORD',
      });
    } finally {
      await other.close();
    }
  });
});

describe('transports', () => {
  it('takes every parameter from a GET query string', async () => {
    const query = new URLSearchParams({ ...CREATE, user: 'demo', password: 'demo' });
    const res = await fetch(`${emulator.url}/api/http/?${query.toString()}`);
    // Compact JSON, the group's id a JSON number.
    expect(await res.text()).toMatch(/^\{"status":"SUCCESS","result":\{"idgroup":[1-9]\d*\}\}$/);
  });

  it('takes an application/x-www-form-urlencoded POST body', async () => {
    const body = new URLSearchParams({ ...CREATE, user: 'demo', password: 'demo' });
    const res = await fetch(`${emulator.url}/api/http/`, { method: 'POST', body });
    expect(await answerOf(res)).toEqual(CREATED);
  });

  it('takes a multipart/form-data POST body, as the provider’s PHP SDK sends', async () => {
    const body = new FormData();
    for (const [key, value] of Object.entries({ ...CREATE, user: 'demo', password: 'demo' })) {
      body.append(key, value);
    }
    const res = await fetch(`${emulator.url}/api/http/`, { method: 'POST', body });
    expect(await answerOf(res)).toEqual(CREATED);
  });

  it('reads a multipart file part as a field holding its text', async () => {
    const body = new FormData();
    for (const [key, value] of Object.entries({ ...CREATE, user: 'demo', password: 'demo' })) {
      body.append(key, value);
    }
    body.set('name', new Blob(['From a file']), 'name.txt');
    await answerOf(await fetch(`${emulator.url}/api/http/`, { method: 'POST', body }));
    expect(await groupNames()).toEqual(['From a file']);
  });

  it('takes the credentials from Authorization: Basic on a GET', async () => {
    const res = await fetch(`${emulator.url}/api/http/?${new URLSearchParams(CREATE).toString()}`, {
      headers: { authorization: DEMO_BASIC },
    });
    expect(await answerOf(res)).toMatchObject({ status: 'SUCCESS' });
  });

  it('takes the credentials from Authorization: Basic on a POST', async () => {
    const res = await fetch(`${emulator.url}/api/http/`, {
      method: 'POST',
      headers: { authorization: DEMO_BASIC },
      body: new URLSearchParams(CREATE),
    });
    expect(await answerOf(res)).toMatchObject({ status: 'SUCCESS' });
  });

  it('prefers user and password parameters over the Basic header', async () => {
    const wrongHeader = `Basic ${Buffer.from('demo:wrong').toString('base64')}`;
    const query = new URLSearchParams({ ...CREATE, user: 'demo', password: 'demo' });
    const res = await fetch(`${emulator.url}/api/http/?${query.toString()}`, {
      headers: { authorization: wrongHeader },
    });
    expect(await answerOf(res)).toMatchObject({ status: 'SUCCESS' });
  });

  it('answers at /api/http without the trailing slash too', async () => {
    const body = new URLSearchParams({ ...CREATE, user: 'demo', password: 'demo' });
    const res = await fetch(`${emulator.url}/api/http`, { method: 'POST', body });
    expect(await answerOf(res)).toMatchObject({ status: 'SUCCESS' });
  });

  it('merges query and body, the body winning', async () => {
    const query = new URLSearchParams({ ...CREATE, name: 'from query', password: 'wrong' });
    const body = new URLSearchParams({ user: 'demo', password: 'demo', name: 'from body' });
    const res = await fetch(`${emulator.url}/api/http/?${query.toString()}`, {
      method: 'POST',
      body,
    });
    expect(await answerOf(res)).toMatchObject({ status: 'SUCCESS' });
    expect(await groupNames()).toEqual(['from body']);
  });

  it('keeps the last value of a repeated parameter', async () => {
    const query = new URLSearchParams({ ...CREATE, user: 'demo', password: 'demo' });
    query.append('name', 'second');
    await answerOf(await fetch(`${emulator.url}/api/http/?${query.toString()}`));
    expect(await groupNames()).toEqual(['second']);
  });

  it('ignores a body of another content type', async () => {
    const res = await fetch(`${emulator.url}/api/http/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...CREATE, user: 'demo', password: 'demo' }),
    });
    expect(await answerOf(res)).toEqual({ status: 'ERROR', error: 'MISSING_USER' });
  });

  it('refuses HTTP methods other than GET and POST with 405', async () => {
    const res = await fetch(`${emulator.url}/api/http/`, { method: 'PUT', body: 'x' });
    expect(res.status).toBe(405);
  });

  it('answers 404 in plain text outside /api/http/ and /__emulator/', async () => {
    const res = await fetch(`${emulator.url}/api/other/`);
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
  });
});
