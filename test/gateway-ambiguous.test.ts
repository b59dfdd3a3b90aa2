import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  AFILNET_METHODS,
  AfilnetAmbiguousError,
  AfilnetClient,
  type AfilnetMethod,
} from '../src/afilnet/index.ts';
import { ApiCaller } from '../src/gateway/api-caller.ts';
import { isIdempotent } from '../src/gateway/idempotency.ts';
import { RateBudget } from '../src/gateway/rate-budget.ts';
import { createLogger } from '../src/observability/logger.ts';
import { testRedis } from './support/stores.ts';

/**
 * A provider that reads each request, then fails the next `drops` requests — dropping the
 * connection unanswered, or answering HTTP 502 (either way it may have been applied: ambiguous)
 * — and answers SUCCESS after.
 */
function flakyProvider() {
  const seen: string[] = [];
  let drops = 0;
  let how: 'drop' | 502 = 'drop';
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      const method = new URLSearchParams(body).get('method') ?? '?';
      seen.push(method);
      if (drops > 0) {
        drops--;
        if (how === 'drop') req.socket.destroy();
        else res.writeHead(how).end('Bad Gateway');
        return;
      }
      res.setHeader('content-type', 'application/json');
      const result = method === 'getgroupcolumns' ? ['mobile'] : { idgroup: 7, idcontact: 9 };
      res.end(JSON.stringify({ status: 'SUCCESS', result }));
    });
  });
  return {
    server,
    seen,
    failNext: (n: number, way: 'drop' | 502 = 'drop') => {
      drops = n;
      how = way;
    },
  };
}

describe('ambiguous failures ("may have been applied") in ApiCaller', () => {
  const provider = flakyProvider();
  let client: AfilnetClient;
  let caller: ApiCaller;
  let redis: Redis;
  let prefix: string;

  beforeAll(async () => {
    await new Promise<void>((r) => provider.server.listen(0, '127.0.0.1', r));
    const { port } = provider.server.address() as AddressInfo;
    client = new AfilnetClient({
      baseUrl: `http://127.0.0.1:${port}`,
      user: 'u',
      password: 'p',
      auth: 'post',
    });
    const stores = testRedis();
    prefix = stores.prefix;
    redis = new Redis(stores.url);
    caller = new ApiCaller(
      new RateBudget(redis, prefix, 1000),
      null,
      createLogger({ level: 'silent' }),
    );
  });
  beforeEach(() => {
    provider.seen.length = 0;
  });
  afterAll(async () => {
    await redis.del(...(await redis.keys(`${prefix}:*`)), 'none');
    redis.disconnect();
    await client.close();
    await new Promise((r) => provider.server.close(r));
  });

  it('classifies every method, reads and updates as idempotent, creations and removals not', () => {
    const idempotent = AFILNET_METHODS.filter((m) => isIdempotent(m));
    expect(idempotent.sort()).toEqual(
      [
        'assigncountrytogroup',
        'deletecontact',
        'getcontact',
        'getcontacts',
        'getgroupcolumns',
        'modifycontact',
      ].sort(),
    );
  });

  const idempotentCalls: [AfilnetMethod, () => Promise<unknown>][] = [
    ['modifycontact', () => client.modifycontact('7', '9', { name: 'x' })],
    ['deletecontact', () => client.deletecontact('7', '9')],
    ['getgroupcolumns', () => client.getgroupcolumns('7')],
  ];
  const ways = ['drop', 502] as const;
  const idempotentCases = ways.flatMap((way) =>
    idempotentCalls.map(([m, fn]) => [m, way, fn] as const),
  );
  it.each(idempotentCases)('sends %s again after a failure (%s)', async (method, way, fn) => {
    provider.failNext(1, way);
    await caller.call(method, 'live', fn);
    expect(provider.seen).toEqual([method, method]);
  });

  const creatingCalls: [AfilnetMethod, () => Promise<unknown>][] = [
    ['creategroup', () => client.creategroup({ name: 'g', type: 'mobile', fields: ['mobile'] })],
    ['addcontactlist', () => client.addcontactlist('7', [{ mobile: '34600000001' }])],
    ['deletegroup', () => client.deletegroup('7')],
  ];
  const creatingCases = ways.flatMap((way) =>
    creatingCalls.map(([m, fn]) => [m, way, fn] as const),
  );
  it.each(creatingCases)(
    'gives %s back unchanged after a failure (%s), sent once',
    async (method, way, fn) => {
      provider.failNext(1, way);
      const failure = await caller.call(method, 'live', fn).catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(AfilnetAmbiguousError);
      expect(provider.seen).toEqual([method]);
    },
  );
});
