import { createServer } from 'node:net';
import { Writable } from 'node:stream';
import { request } from 'undici';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator } from '../src/emulator/index.ts';
import {
  AfilnetAmbiguousError,
  AfilnetApiError,
  AfilnetClient,
  AfilnetProtocolError,
  AfilnetRetryableError,
  ContactEncodingError,
  encodeContact,
  type AfilnetClientOptions,
  type AfilnetError,
  type CallInfo,
} from '../src/afilnet/index.ts';
import { createLogger } from '../src/observability/logger.ts';

// Every way a call can fail becomes exactly one typed error, decided once: the emulator's fault
// injection provokes each transport failure for real, over HTTP.

const USER = 'sync-user';
const PASSWORD = 'Pa55-w0rd-that-must-never-leak';
const BASIC_TOKEN = Buffer.from(`${USER}:${PASSWORD}`).toString('base64');

let emulator: { url: string; close(): Promise<void> };
const clients: AfilnetClient[] = [];

beforeAll(async () => {
  emulator = await startEmulator({ accounts: [{ user: USER, password: PASSWORD }] });
});

afterAll(async () => {
  await emulator.close();
});

beforeEach(async () => {
  await request(`${emulator.url}/__emulator/reset`, { method: 'POST' }).then((r) => r.body.dump());
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

function newClient(options: Partial<AfilnetClientOptions> = {}): AfilnetClient {
  const client = new AfilnetClient({
    baseUrl: emulator.url,
    user: USER,
    password: PASSWORD,
    auth: 'post',
    ...options,
  });
  clients.push(client);
  return client;
}

async function setFaults(faults: Record<string, number>): Promise<void> {
  const { statusCode, body } = await request(`${emulator.url}/__emulator/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(faults),
  });
  await body.dump();
  expect(statusCode).toBe(200);
}

async function getJson<T>(path: string): Promise<T> {
  const { body } = await request(`${emulator.url}${path}`);
  return (await body.json()) as T;
}

interface EmulatorState {
  groups: { idgroup: number; contacts: { idcontact: number; fields: Record<string, string> }[] }[];
}

async function failureOf(call: Promise<unknown>): Promise<AfilnetError> {
  const outcome = await call.then(
    () => undefined,
    (error: unknown) => error,
  );
  if (outcome === undefined) throw new Error('expected the call to fail');
  return outcome as AfilnetError;
}

/** A group to work in, created while no fault is set. */
async function groupFor(client: AfilnetClient): Promise<string> {
  const { idgroup } = await client.creategroup({ name: 'g', type: 'mobile', fields: ['mobile'] });
  if (idgroup === null) throw new Error('the emulator returns ids outside strict-docs mode');
  return idgroup;
}

/** A port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

describe('when the provider or the network fails', () => {
  it('calls an HTTP 5xx ambiguous even when nothing was applied: the status cannot tell', async () => {
    const client = newClient();
    const idgroup = await groupFor(client);
    await setFaults({ errorRate: 1 });
    const error = await failureOf(client.addcontact(idgroup, { mobile: '34600000001' }));
    expect(error).toBeInstanceOf(AfilnetAmbiguousError);
    expect(error).toMatchObject({ kind: 'ambiguous', reason: 'server_error', status: 503 });
    await setFaults({ errorRate: 0 });
    expect(await client.getcontacts(idgroup)).toEqual([]);
  });

  it('turns a connection reset before the answer into an ambiguous error', async () => {
    const client = newClient();
    const idgroup = await groupFor(client);
    await setFaults({ resetRate: 1 });
    const error = await failureOf(client.deletegroup(idgroup));
    expect(error).toBeInstanceOf(AfilnetAmbiguousError);
    expect(error).toMatchObject({ kind: 'ambiguous', method: 'deletegroup' });
    expect(error.code).toMatch(/^(UND_ERR_SOCKET|ECONNRESET)$/);
  });

  it('calls a change applied but unanswered ambiguous, and the change is there', async () => {
    const client = newClient();
    const idgroup = await groupFor(client);
    await setFaults({ appliedThenResetRate: 1 });
    const error = await failureOf(client.addcontact(idgroup, { mobile: '34600000002' }));
    expect(error).toBeInstanceOf(AfilnetAmbiguousError);
    const state = await getJson<EmulatorState>('/__emulator/state');
    const group = state.groups.find((g) => String(g.idgroup) === idgroup);
    expect(group?.contacts.map((c) => c.fields.mobile)).toEqual(['34600000002']);
  });

  it('turns HTTP 429 into a retryable error carrying Retry-After in ms', async () => {
    const reports: CallInfo[] = [];
    const client = newClient({ hooks: { afterCall: (info) => reports.push(info) } });
    await setFaults({ rateLimitPerSecond: 1 });
    const idgroup = await groupFor(client);
    const error = await failureOf(client.getgroupcolumns(idgroup));
    expect(error).toBeInstanceOf(AfilnetRetryableError);
    expect(error).toMatchObject({ reason: 'rate_limited', status: 429 });
    expect((error as AfilnetRetryableError).retryAfterMs).toBeGreaterThanOrEqual(1000);
    expect(reports.at(-1)).toMatchObject({ method: 'getgroupcolumns', outcome: 'retryable' });
    expect(reports.at(-1)?.retryAfterMs).toBeGreaterThanOrEqual(1000);
  });

  it('turns a refused connection into a retryable error that says nothing was sent', async () => {
    const client = newClient({ baseUrl: `http://127.0.0.1:${await closedPort()}` });
    const error = await failureOf(client.getgroupcolumns('1'));
    expect(error).toBeInstanceOf(AfilnetRetryableError);
    expect(error).toMatchObject({ reason: 'not_sent', code: 'ECONNREFUSED', status: undefined });
  });

  it('calls an answer slower than headersTimeoutMs ambiguous, since it was applied', async () => {
    const client = newClient({ headersTimeoutMs: 200 });
    await setFaults({ latencyMs: 2000 });
    const error = await failureOf(
      client.creategroup({ name: 'slow', type: 'mobile', fields: ['mobile'] }),
    );
    expect(error).toBeInstanceOf(AfilnetAmbiguousError);
    expect(error).toMatchObject({ code: 'UND_ERR_HEADERS_TIMEOUT' });
    const state = await getJson<EmulatorState>('/__emulator/state');
    expect(state.groups).toHaveLength(1);
  });

  it('calls an answer that is not an Afilnet answer a protocol error', async () => {
    // The emulator answers 404 (text) outside /api/http/, and 404 JSON of its own under
    // /__emulator/: neither is an Afilnet answer.
    for (const prefix of ['/elsewhere', '/__emulator']) {
      const client = newClient({ baseUrl: `${emulator.url}${prefix}` });
      const error = await failureOf(client.getgroupcolumns('1'));
      expect(error).toBeInstanceOf(AfilnetProtocolError);
      expect(error).toMatchObject({ kind: 'protocol', method: 'getgroupcolumns', status: 404 });
    }
  });
});

describe('hooks', () => {
  it('awaits beforeCall before sending and reports each outcome to afterCall', async () => {
    const events: string[] = [];
    const client = newClient({
      hooks: {
        beforeCall: async (method) => {
          events.push(`before ${method}`);
          await new Promise((resolve) => setTimeout(resolve, 20));
        },
        afterCall: (info) =>
          events.push(`after ${info.method} ${info.outcome} ${info.apiCode ?? ''}`),
      },
    });
    const idgroup = await groupFor(client);
    expect(await failureOf(client.getcontact(idgroup, '424242'))).toBeInstanceOf(AfilnetApiError);
    expect(events).toEqual([
      'before creategroup',
      'after creategroup success ',
      'before getcontact',
      'after getcontact api_error NOT_ACCESS_TO_CONTACT',
    ]);
  });

  it('reports a streamed read once, when the stream ends', async () => {
    const reports: CallInfo[] = [];
    const client = newClient({ hooks: { afterCall: (info) => reports.push(info) } });
    const idgroup = await groupFor(client);
    await client.addcontactlist(idgroup, [{ mobile: '1' }, { mobile: '2' }]);
    reports.length = 0;
    for await (const contact of client.streamContacts(idgroup)) {
      expect(reports).toEqual([]);
      expect(contact.idcontact).toMatch(/^\d+$/);
    }
    expect(reports).toMatchObject([{ method: 'getcontacts', outcome: 'success' }]);
  });

  it('does not let a failing afterCall turn an applied change into an error', async () => {
    const client = newClient({
      hooks: {
        afterCall: () => {
          throw new Error('metrics are broken');
        },
      },
    });
    await expect(groupFor(client)).resolves.toMatch(/^\d+$/);
  });
});

describe('refusing contacts the field:value form cannot carry', () => {
  it.each([
    ['a comma in a value', { name: 'Doe, Jane' }, 'name', 'value', 'comma'],
    ['a colon in a value', { note: 'at 10:30' }, 'note', 'value', 'colon'],
    ['a newline in a value', { note: 'a\nb' }, 'note', 'value', 'newline'],
    ['a carriage return in a value', { note: 'a\rb' }, 'note', 'value', 'newline'],
    ['a comma in a name', { 'a,b': 'x' }, 'a,b', 'name', 'comma'],
    ['a colon in a name', { 'a:b': 'x' }, 'a:b', 'name', 'colon'],
    ['an empty name', { '': 'x' }, '', 'name', 'empty'],
  ] as const)(
    'refuses %s, naming the field but not the value',
    (_, fields, field, part, problem) => {
      let thrown: unknown;
      try {
        encodeContact(fields);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(ContactEncodingError);
      expect(thrown).toMatchObject({ field, part, problem });
      const value = Object.values(fields)[0] ?? '';
      if (part === 'value') expect((thrown as Error).message).not.toContain(value);
    },
  );

  it('encodes acceptable fields as field:value pairs in order', () => {
    expect(encodeContact({ mobile: '34600000000', name: 'Ana María' })).toBe(
      'mobile:34600000000,name:Ana María',
    );
  });

  it('refuses in addcontact and modifycontact before anything is sent', async () => {
    let hooked = 0;
    const client = newClient({ hooks: { beforeCall: () => Promise.resolve(void (hooked += 1)) } });
    const idgroup = await groupFor(client);
    const before = await getJson<{ total: number }>('/__emulator/calls');
    const bad = { mobile: '346', name: 'Doe, Jane' };
    await expect(client.addcontact(idgroup, bad)).rejects.toBeInstanceOf(ContactEncodingError);
    await expect(client.modifycontact(idgroup, '1', bad)).rejects.toBeInstanceOf(
      ContactEncodingError,
    );
    expect((await getJson<{ total: number }>('/__emulator/calls')).total).toBe(before.total);
    expect(hooked).toBe(1);
  });
});

describe('keeping the password secret', () => {
  /** Provokes one of every outcome; returns the errors thrown. */
  async function everyOutcome(
    client: AfilnetClient,
    broken: AfilnetClient,
    auth: 'post' | 'basic',
  ): Promise<unknown[]> {
    const errors: unknown[] = [];
    const keep = (call: Promise<unknown>) => call.catch((error: unknown) => errors.push(error));
    const idgroup = await groupFor(client);
    await client.addcontact(idgroup, { mobile: '34600000003', name: 'A' });
    await client.getcontacts(idgroup);
    await keep(client.getcontacts('999999')); // api
    await keep(broken.getcontacts(idgroup)); // protocol
    // Nothing listens there: retryable, deterministically (a 429 would depend on timing).
    const refused = newClient({ auth, baseUrl: `http://127.0.0.1:${await closedPort()}` });
    await keep(refused.getgroupcolumns(idgroup)); // retryable
    await setFaults({ resetRate: 1 });
    await keep(client.getgroupcolumns(idgroup)); // ambiguous
    await setFaults({ resetRate: 0 });
    return errors;
  }

  for (const auth of ['post', 'basic'] as const) {
    describe(`with auth ${auth}`, () => {
      it('never puts it in a URL the provider receives', async () => {
        const client = newClient({ auth });
        const broken = newClient({ auth, baseUrl: `${emulator.url}/elsewhere` });
        await everyOutcome(client, broken, auth);
        const requests =
          await getJson<{ path: string; passwordInUrl: boolean; auth: string }[]>(
            '/__emulator/requests',
          );
        const api = requests.filter((r) => r.path.includes('/api/http/'));
        expect(api.length).toBeGreaterThanOrEqual(5);
        for (const entry of api) {
          expect(entry).toMatchObject({ path: '/api/http/', passwordInUrl: false, auth });
        }
      });

      it('never puts it in a log line, even when hooks log every call and error', async () => {
        const lines: string[] = [];
        const sink = new Writable({
          write(chunk: Buffer, _encoding, done) {
            lines.push(chunk.toString('utf8'));
            done();
          },
        });
        const logger = createLogger({ level: 'trace' }, sink);
        const hooks = {
          beforeCall: (method: string) => Promise.resolve(logger.debug({ method }, 'calling')),
          afterCall: (info: CallInfo) => logger.info(info, 'called'),
        };
        const client = newClient({ auth, hooks });
        const broken = newClient({ auth, hooks, baseUrl: `${emulator.url}/elsewhere` });
        logger.info({ client }, 'client ready');
        for (const error of await everyOutcome(client, broken, auth))
          logger.error({ err: error }, 'failed');
        expect(lines.filter((l) => l.includes('"failed"'))).toHaveLength(4);
        expect(lines.length).toBeGreaterThan(12);
        for (const line of lines) {
          expect(line).not.toContain(PASSWORD);
          expect(line).not.toContain(BASIC_TOKEN);
        }
      });

      it('never puts it in an error, whatever kind', async () => {
        const client = newClient({ auth });
        const broken = newClient({ auth, baseUrl: `${emulator.url}/elsewhere` });
        const errors = await everyOutcome(client, broken, auth);
        expect(errors.map((e) => (e as AfilnetError).kind).sort()).toEqual([
          'ambiguous',
          'api',
          'protocol',
          'retryable',
        ]);
        for (const error of errors) {
          const whole = JSON.stringify(error, Object.getOwnPropertyNames(error));
          expect(whole).not.toContain(PASSWORD);
          expect(whole).not.toContain(BASIC_TOKEN);
          expect((error as Error).cause).toBeUndefined();
        }
      });
    });
  }
});
