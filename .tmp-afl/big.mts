import { startEmulator } from '../src/emulator/index.ts';
import { AfilnetClient } from '../src/afilnet/index.ts';
const N = Number(process.argv[2] ?? 1_000_000);
const emu = await startEmulator();
const c = new AfilnetClient({ baseUrl: emu.url, user: 'demo', password: 'demo', auth: 'post' });
const { idgroup } = await c.creategroup({ name: 'big', type: 'mobile', fields: ['mobile', 'name', 'email'] });
let t = Date.now();
const B = 20_000;
for (let i = 0; i < N; i += B) {
  const list = [];
  for (let j = i; j < Math.min(N, i + B); j++) list.push({ mobile: `346${String(j).padStart(8, '0')}`, name: `Contact ${j}`, email: `c${j}@example.com` });
  const r = await c.addcontactlist(idgroup!, list);
  if (r.added?.length !== list.length) throw new Error('x');
}
console.log('filled', (Date.now() - t) / 1000, 's rss', Math.round(process.memoryUsage().rss / 1e6));
global.gc?.();
const base = process.memoryUsage().rss;
let peak = base, n = 0;
t = Date.now();
for await (const x of c.streamContacts(idgroup!)) { n++; if (n % 20000 === 0) peak = Math.max(peak, process.memoryUsage().rss); }
console.log('streamed', n, (Date.now() - t) / 1000, 's base', Math.round(base / 1e6), 'peak', Math.round(peak / 1e6));
await c.close(); await emu.close();
