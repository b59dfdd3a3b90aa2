import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  startEmulator,
  type FaultSettings,
  type LoggedCall,
  type RunningEmulator,
} from '../src/emulator/index.ts';

// The wider adversary, over real HTTP: calls applied and then answered 5xx, account-level
// refusals for a period, and Retry-After values chosen by the test.

let emulator: RunningEmulator;

beforeAll(async () => {
  emulator = await startEmulator();
});

afterAll(() => emulator.close());

beforeEach(async () => {
  await fetch(`${emulator.url}/__emulator/reset`, { method: 'POST' });
});

const CREATE = { method: 'creategroup', name: 'G', type: 'mobile', fields: 'mobile' };

function post(params: Record<string, string>): Promise<Response> {
  const body = new URLSearchParams({ class: 'group', user: 'demo', password: 'demo', ...params });
  return fetch(`${emulator.url}/api/http/`, { method: 'POST', body });
}

async function setFaults(faults: Record<string, unknown>): Promise<Response> {
  return fetch(`${emulator.url}/__emulator/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(faults),
  });
}

async function inspect<T>(path: string): Promise<T> {
  return (await (await fetch(`${emulator.url}/__emulator/${path}`)).json()) as T;
}

const groupCount = async () => (await inspect<{ groups: unknown[] }>('state')).groups.length;
const outcomes = async () => (await inspect<LoggedCall[]>('requests')).map((call) => call.outcome);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('appliedThenErrorRate', () => {
  it('applies the call, then answers the status set, as plain text', async () => {
    expect((await setFaults({ appliedThenErrorRate: 1, appliedThenErrorStatus: 502 })).status).toBe(
      200,
    );
    const res = await post(CREATE);
    expect(res.status).toBe(502);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    await res.text();
    expect(await groupCount()).toBe(1);
    expect(await outcomes()).toEqual(['fault:applied_then_error']);
    expect(await inspect('calls')).toMatchObject({ total: 1, rejected: { fault: 1 } });
  });

  it('picks 502, 503 or 504 at random when no status is set, applying every call', async () => {
    await setFaults({ appliedThenErrorRate: 1 });
    const statuses = await Promise.all(
      Array.from({ length: 30 }, async () => {
        const res = await post(CREATE);
        await res.text();
        return res.status;
      }),
    );
    for (const status of statuses) expect([502, 503, 504]).toContain(status);
    // All 30 alike has a chance of 3 in 3^30.
    expect(new Set(statuses).size).toBeGreaterThan(1);
    expect(await groupCount()).toBe(30);
  });

  it('shares one draw with errorRate: each call is refused unapplied or applied, never both', async () => {
    await setFaults({ errorRate: 0.5, appliedThenErrorRate: 0.5, appliedThenErrorStatus: 504 });
    const statuses: number[] = [];
    for (let i = 0; i < 40; i++) {
      const res = await post(CREATE);
      await res.text();
      statuses.push(res.status);
    }
    const applied = statuses.filter((status) => status === 504).length;
    expect(statuses.filter((status) => status === 503)).toHaveLength(40 - applied);
    expect(applied).toBeGreaterThan(0);
    expect(applied).toBeLessThan(40);
    expect(await groupCount()).toBe(applied);
  });
});

describe('fault settings of the wider adversary', () => {
  it.each([
    [{ appliedThenErrorStatus: 500 }],
    [{ appliedThenErrorRate: 1.5 }],
    [{ retryAfterSeconds: -1 }],
    [{ retryAfterSeconds: 1.5 }],
    [{ retryAfterForm: 'minutes' }],
    [{ accountError: 'no credits' }],
    [{ accountError: 42 }],
    [{ accountErrorForMs: 5000 }], // no account error to time
  ])('refuses %j with 400 and changes nothing', async (patch) => {
    const res = await setFaults({ latencyMs: 1, ...patch });
    expect(res.status).toBe(400);
    expect(await inspect<FaultSettings>('faults')).toMatchObject({
      latencyMs: 0,
      accountError: null,
    });
  });
});

describe('account errors', () => {
  it('answer every API call with the code until cleared, applying nothing', async () => {
    await setFaults({ accountError: 'INCORRECT_USER_PASSWORD' });
    const calls = [CREATE, { method: 'getcontacts', idgroup: '1' }, { method: 'nosuchmethod' }];
    for (const params of calls) {
      const res = await post(params);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ status: 'ERROR', error: 'INCORRECT_USER_PASSWORD' });
    }
    expect(await groupCount()).toBe(0);
    expect(await outcomes()).toEqual(Array(3).fill('fault:account_error'));
    expect(await inspect('calls')).toMatchObject({ total: 3, rejected: { fault: 3 } });
    expect(await inspect('faults')).toMatchObject({
      accountError: 'INCORRECT_USER_PASSWORD',
      accountErrorForMs: 0,
    });

    await setFaults({ accountError: null });
    expect(await (await post(CREATE)).json()).toMatchObject({ status: 'SUCCESS' });
    expect(await groupCount()).toBe(1);
  });

  it('end by themselves after accountErrorForMs, which a later POST may re-time', async () => {
    const res = await setFaults({ accountError: 'NO_CREDITS', accountErrorForMs: 60_000 });
    const shown = (await res.json()) as FaultSettings;
    expect(shown.accountError).toBe('NO_CREDITS');
    expect(shown.accountErrorForMs).toBeGreaterThan(50_000);
    expect(shown.accountErrorForMs).toBeLessThanOrEqual(60_000);
    expect(await (await post(CREATE)).json()).toEqual({ status: 'ERROR', error: 'NO_CREDITS' });
    expect((await setFaults({ accountErrorForMs: 50 })).status).toBe(200);
    await sleep(100);
    expect(await (await post(CREATE)).json()).toMatchObject({ status: 'SUCCESS' });
    expect(await inspect('faults')).toMatchObject({ accountError: null, accountErrorForMs: 0 });
  });

  it('come before the drawn faults: a 5xx fault does not strike meanwhile', async () => {
    await setFaults({ accountError: 'NO_CREDITS', errorRate: 1 });
    const res = await post(CREATE);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ERROR', error: 'NO_CREDITS' });
  });
});

describe('Retry-After chosen by the test', () => {
  /** Two calls at once with a limit of one per second: the second is answered 429. */
  async function refusedRetryAfter(): Promise<string | null> {
    await setFaults({ rateLimitPerSecond: 1 });
    const answers = await Promise.all([post(CREATE), post(CREATE)]);
    await Promise.all(answers.map((res) => res.text()));
    const refused = answers.find((res) => res.status === 429);
    expect(refused).toBeDefined();
    return refused?.headers.get('retry-after') ?? null;
  }

  it.each([86_400, 0, 3_000_000_000])('sends Retry-After: %i seconds as set', async (seconds) => {
    await setFaults({ retryAfterSeconds: seconds });
    expect(await refusedRetryAfter()).toBe(String(seconds));
  });

  it('writes an HTTP-date that many seconds ahead when asked', async () => {
    await setFaults({ retryAfterSeconds: 120, retryAfterForm: 'http-date' });
    const header = (await refusedRetryAfter()) ?? '';
    expect(header).toMatch(/^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/);
    const ahead = Date.parse(header) - Date.now();
    expect(ahead).toBeGreaterThan(110_000);
    expect(ahead).toBeLessThanOrEqual(120_000);
  });

  it('writes the limiter’s own delay as an HTTP-date when only the form is set', async () => {
    await setFaults({ retryAfterForm: 'http-date' });
    const ahead = Date.parse((await refusedRetryAfter()) ?? '') - Date.now();
    expect(ahead).toBeGreaterThan(-1_000);
    expect(ahead).toBeLessThanOrEqual(1_000);
  });
});
