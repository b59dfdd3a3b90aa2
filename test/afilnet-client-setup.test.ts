import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadAfilnetConfig } from '../src/config/config.ts';
import { startEmulator } from '../src/emulator/index.ts';
import { AfilnetClient, type CallInfo } from '../src/afilnet/index.ts';

// How a client is built: from the validated environment, and what it refuses to be built with.

let emulator: { url: string; close(): Promise<void> };

beforeAll(async () => {
  emulator = await startEmulator();
});

afterAll(async () => {
  await emulator.close();
});

async function lastRequest(): Promise<{ path: string; auth: string }> {
  const { body } = await request(`${emulator.url}/__emulator/requests`);
  const entries = (await body.json()) as { path: string; auth: string }[];
  const last = entries.at(-1);
  if (!last) throw new Error('the emulator received no request');
  return last;
}

describe('building a client', () => {
  it('takes its URL, credentials, auth mode and hooks from the Afilnet config', async () => {
    const config = loadAfilnetConfig({
      AFILNET_BASE_URL: emulator.url,
      AFILNET_USER: 'demo',
      AFILNET_PASSWORD: 'demo',
      AFILNET_AUTH: 'basic',
    });
    const reports: CallInfo[] = [];
    const client = AfilnetClient.fromConfig(config, { afterCall: (info) => reports.push(info) });
    try {
      const { idgroup } = await client.creategroup({ name: 'c', type: 'email', fields: ['email'] });
      expect(idgroup).toMatch(/^\d+$/);
      expect(await lastRequest()).toMatchObject({ path: '/api/http/', auth: 'basic' });
      expect(reports).toMatchObject([{ method: 'creategroup', outcome: 'success' }]);
    } finally {
      await client.close();
    }
  });

  it('accepts a base URL with a trailing slash', async () => {
    const client = new AfilnetClient({
      baseUrl: `${emulator.url}/`,
      user: 'demo',
      password: 'demo',
      auth: 'post',
    });
    try {
      await expect(client.getgroupcolumns('999999')).rejects.toMatchObject({ kind: 'api' });
      expect(await lastRequest()).toMatchObject({ path: '/api/http/', auth: 'post' });
    } finally {
      await client.close();
    }
  });

  it.each([
    ['credentials', 'http://demo:demo@127.0.0.1:1'],
    ['a query', 'http://127.0.0.1:1/?password=demo'],
  ])('refuses a base URL carrying %s, without repeating it', (_, baseUrl) => {
    const build = () => new AfilnetClient({ baseUrl, user: 'u', password: 'p', auth: 'post' });
    expect(build).toThrow(/must not carry credentials/);
    expect(build).not.toThrow(/demo/);
  });

  it('refuses a Basic-auth user containing a colon, which the header cannot carry', () => {
    const build = () =>
      new AfilnetClient({ baseUrl: emulator.url, user: 'a:b', password: 'p', auth: 'basic' });
    expect(build).toThrow(/must not contain ":"/);
  });
});
