import { startEmulator } from '../src/emulator/index.ts';
import { AfilnetClient } from '../src/afilnet/index.ts';
for (const strictDocs of [false, true]) for (const auth of ['post', 'basic'] as const) {
  const emu = await startEmulator({ strictDocs });
  const c = new AfilnetClient({ baseUrl: emu.url, user: 'demo', password: 'demo', auth });
  const g = await c.creategroup({ name: 'g', type: 'mobile', fields: ['mobile', 'name'] });
  console.log(strictDocs, auth, g);
  const id = g.idgroup ?? '1';
  console.log(await c.getgroupcolumns(id));
  console.log(await c.addcontact(id, { mobile: '346', name: 'A' }));
  console.log(JSON.stringify(await c.addcontactlist(id, [{ mobile: '347', name: 'B, c:d' }, { mobile: '346' }])));
  console.log(JSON.stringify(await c.getcontacts(id)));
  await c.getcontact(id, '99').catch((e) => console.log(e.name, e.message, e.code, e.kind));
  console.log(await (await fetch(emu.url + '/__emulator/requests')).text());
  await c.close(); await emu.close();
}
