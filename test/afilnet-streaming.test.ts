import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AfilnetClient } from '../src/afilnet/index.ts';

// getcontacts of a very large group, end to end over real HTTP: the emulator runs in a child
// process so that this process's memory is the client's alone.

const CONTACTS = 1_000_000;
const BATCH = 20_000;

const emulatorModule = new URL('../src/emulator/index.ts', import.meta.url).href;
const clientModule = new URL('../src/afilnet/index.ts', import.meta.url).href;

// Runs in the child: start an emulator, fill one group, print where it is.
const childScript = `
const { startEmulator } = await import(${JSON.stringify(emulatorModule)});
const { AfilnetClient } = await import(${JSON.stringify(clientModule)});
const emulator = await startEmulator();
const client = new AfilnetClient({ baseUrl: emulator.url, user: 'demo', password: 'demo', auth: 'post' });
const { idgroup } = await client.creategroup({ name: 'big', type: 'mobile', fields: ['mobile', 'name', 'email'] });
for (let start = 0; start < ${CONTACTS}; start += ${BATCH}) {
  const list = [];
  for (let i = start; i < start + ${BATCH}; i++) {
    list.push({ mobile: '346' + String(i).padStart(8, '0'), name: 'Contact ' + i, email: 'c' + i + '@example.com' });
  }
  await client.addcontactlist(idgroup, list);
}
await client.close();
console.log(JSON.stringify({ url: emulator.url, idgroup }));
`;

let child: ChildProcess | undefined;
let where: { url: string; idgroup: string };

beforeAll(async () => {
  child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', childScript], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const stdout = child.stdout;
  if (!stdout) throw new Error('no stdout from the emulator process');
  const exited = new Promise<never>((_, reject) =>
    child?.once('exit', (code) => reject(new Error(`emulator process exited (${code})`))),
  );
  const firstLine = new Promise<string>((resolve) =>
    createInterface({ input: stdout }).once('line', resolve),
  );
  where = JSON.parse(await Promise.race([firstLine, exited])) as typeof where;
}, 120_000);

afterAll(() => {
  child?.kill();
});

describe('streaming a group of 1,000,000 contacts from the emulator', () => {
  // Held whole, a million contacts take over 400 MB; streamed, what the parser and GC keep in flight
  // (80-110 MB by Node version and load): the bound tells the two apart without depending on the GC.
  it('yields every contact in order while this process grows by less than 200 MB', async () => {
    const client = new AfilnetClient({
      baseUrl: where.url,
      user: 'demo',
      password: 'demo',
      auth: 'post',
    });
    try {
      const baseline = process.memoryUsage().rss;
      let peak = baseline;
      let count = 0;
      let previous = 0;
      let inOrder = true;
      for await (const contact of client.streamContacts(where.idgroup)) {
        const id = Number(contact.idcontact);
        if (id <= previous) inOrder = false;
        previous = id;
        if (count === 123_456) {
          expect(contact.fields).toEqual({
            mobile: '34600123456',
            name: 'Contact 123456',
            email: 'c123456@example.com',
          });
        }
        count += 1;
        if (count % 20_000 === 0) peak = Math.max(peak, process.memoryUsage().rss);
      }
      expect(count).toBe(CONTACTS);
      expect(inOrder).toBe(true);
      expect((peak - baseline) / 1024 / 1024).toBeLessThan(200);
    } finally {
      await client.close();
    }
  });

  it('releases the connection when the consumer stops early', async () => {
    // One connection only: had the abandoned body kept it, the next call would queue behind the
    // rest of a 170 MB answer nobody reads, until the body time-out (60 s) gave it up.
    const client = new AfilnetClient({
      baseUrl: where.url,
      user: 'demo',
      password: 'demo',
      auth: 'post',
      connections: 1,
      bodyTimeoutMs: 60_000,
    });
    try {
      const firstTen: string[] = [];
      for await (const contact of client.streamContacts(where.idgroup)) {
        firstTen.push(contact.fields.mobile ?? '');
        if (firstTen.length === 10) break;
      }
      expect(firstTen).toHaveLength(10);
      expect(firstTen[9]).toBe('34600000009');
      const started = performance.now();
      expect(await client.getgroupcolumns(where.idgroup)).toEqual(['mobile', 'name', 'email']);
      expect(performance.now() - started).toBeLessThan(15_000);
    } finally {
      await client.close();
    }
  });
});
