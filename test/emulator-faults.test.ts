import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  startEmulator,
  type FaultSettings,
  type LoggedCall,
  type RunningEmulator,
} from '../src/emulator/index.ts';

// Each injected fault as a client sees it, and whether the call was applied.

let emulator: RunningEmulator;

beforeAll(async () => {
  emulator = await startEmulator({
    accounts: [
      { user: 'demo', password: 'demo' },
      { user: 'other', password: 'other' },
    ],
  });
});

afterAll(() => emulator.close());

beforeEach(async () => {
  await fetch(`${emulator.url}/__emulator/reset`, { method: 'POST' });
});

const CREATE = { method: 'creategroup', name: 'G', type: 'mobile', fields: 'mobile' };

function post(params: Record<string, string>, user = 'demo'): Promise<Response> {
  const body = new URLSearchParams({ class: 'group', user, password: user, ...params });
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

/** The low-level reason a fetch failed: the socket was closed under it. */
async function socketFailure(call: Promise<Response>): Promise<string | undefined> {
  const error = await call.then(
    () => undefined,
    (err: unknown) => err as { cause?: { code?: string } },
  );
  return error?.cause?.code;
}

const groupCount = async () => (await inspect<{ groups: unknown[] }>('state')).groups.length;
const outcomes = async () => (await inspect<LoggedCall[]>('requests')).map((call) => call.outcome);

describe('the fault settings', () => {
  it('are all off at start', async () => {
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

  it('are merged into the current ones, and 0 or null turns one off', async () => {
    await setFaults({ errorRate: 0.25, latencyMs: 10 });
    const res = await setFaults({ resetRate: 0.5, latencyMs: null });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ errorRate: 0.25, resetRate: 0.5, latencyMs: 0 });
    expect(await inspect<FaultSettings>('faults')).toMatchObject({ errorRate: 0.25 });
  });

  it('refuse a rate outside 0–1, an unknown key or a body that is not JSON, with 400', async () => {
    for (const body of [{ errorRate: 2 }, { errorRat: 0.5 }, { latencyMs: -1 }, 'x']) {
      const res = await setFaults(body as Record<string, unknown>);
      expect(res.status).toBe(400);
    }
    const raw = await fetch(`${emulator.url}/__emulator/faults`, { method: 'POST', body: '{' });
    expect(raw.status).toBe(400);
    expect(await inspect<FaultSettings>('faults')).toMatchObject({ errorRate: 0, latencyMs: 0 });
  });
});

describe('errorRate', () => {
  it('answers HTTP 503 without applying the call', async () => {
    await setFaults({ errorRate: 1 });
    const res = await post(CREATE);
    expect(res.status).toBe(503);
    expect(await groupCount()).toBe(0);
    expect(await outcomes()).toEqual(['fault:error']);
    expect(await inspect('calls')).toMatchObject({ total: 1, rejected: { fault: 1 } });
  });
});

describe('resetRate', () => {
  it('destroys the connection without answering or applying', async () => {
    await setFaults({ resetRate: 1 });
    expect(await socketFailure(post(CREATE))).toMatch(/^(UND_ERR_SOCKET|ECONNRESET)$/);
    expect(await groupCount()).toBe(0);
    expect(await outcomes()).toEqual(['fault:reset']);
  });
});

describe('appliedThenResetRate', () => {
  it('applies the call, then destroys the connection unanswered', async () => {
    await setFaults({ appliedThenResetRate: 1 });
    expect(await socketFailure(post(CREATE))).toMatch(/^(UND_ERR_SOCKET|ECONNRESET)$/);
    expect(await groupCount()).toBe(1);
    expect(await outcomes()).toEqual(['fault:applied_then_reset']);
    expect(await inspect('calls')).toMatchObject({ rejected: { fault: 1 } });
  });
});

describe('rateLimitPerSecond', () => {
  it('answers 429 with Retry-After beyond the limit, per account, and admits again later', async () => {
    await setFaults({ rateLimitPerSecond: 2 });
    // Sent together so that all four surely fall within one second, however loaded the machine.
    const burst = await Promise.all([1, 2, 3, 4].map(() => post(CREATE)));
    expect(burst.map((res) => res.status).sort()).toEqual([200, 200, 429, 429]);
    const refused = burst.find((res) => res.status === 429);
    const retryAfter = Number(refused?.headers.get('retry-after'));
    expect(Number.isInteger(retryAfter) && retryAfter >= 1).toBe(true);
    expect((await post(CREATE, 'other')).status).toBe(200);
    expect(await groupCount()).toBe(3);
    expect(await inspect('calls')).toMatchObject({ total: 5, rejected: { rate_limited: 2 } });
    await new Promise((resolve) => setTimeout(resolve, retryAfter * 1000));
    expect((await post(CREATE)).status).toBe(200);
  });
});

describe('latencyMs', () => {
  it('holds every answer back, after the call was applied', async () => {
    await setFaults({ latencyMs: 1000 });
    const started = performance.now();
    let answered = false;
    const pending = post(CREATE).then((res) => {
      answered = true;
      return res;
    });
    while ((await groupCount()) === 0) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(answered).toBe(false);
    expect((await pending).status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(990);
  });

  it('does not slow the inspection routes', async () => {
    await setFaults({ latencyMs: 5000, errorRate: 1 });
    const started = performance.now();
    expect(await groupCount()).toBe(0);
    expect(performance.now() - started).toBeLessThan(1000);
  });
});
