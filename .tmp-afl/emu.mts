import { startEmulator } from '../src/emulator/index.ts';
import { AfilnetClient } from '../src/afilnet/index.ts';
const emu = await startEmulator({ port: 47311 });
const c = new AfilnetClient({ baseUrl: emu.url, user: 'demo', password: 'demo', auth: 'post' });
const { idgroup } = await c.creategroup({ name: 'big', type: 'mobile', fields: ['mobile', 'name', 'email'] });
for (let i = 0; i < 1_000_000; i += 20000) {
  const list = [];
  for (let j = i; j < i + 20000; j++) list.push({ mobile: `346${String(j).padStart(8, '0')}`, name: `Contact ${j}`, email: `c${j}@example.com` });
  await c.addcontactlist(idgroup!, list);
}
console.log('ready', idgroup);
