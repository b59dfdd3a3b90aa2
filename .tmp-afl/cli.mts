import { AfilnetClient } from '../src/afilnet/index.ts';
const c = new AfilnetClient({ baseUrl: 'http://127.0.0.1:47311', user: 'demo', password: 'demo', auth: 'post' });
const base = process.memoryUsage().rss; let peak = base, n = 0; const t = Date.now();
for await (const x of c.streamContacts('1')) { n++; if (n % 20000 === 0) peak = Math.max(peak, process.memoryUsage().rss); }
console.log('streamed', n, (Date.now() - t) / 1000, 's base', Math.round(base / 1e6), 'peak', Math.round(peak / 1e6));
await c.close();
