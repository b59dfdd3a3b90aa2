/**
 * `npx tsx bench/chaos/repro/run.ts [scenario…]`: the chaos soak's findings as deterministic
 * scenarios, each in its own Postgres, Redis and emulator. Exits 1 when any defect reproduces.
 */
import { withKit } from './repro-kit.ts';
import { SCENARIOS } from './scenarios.ts';

const wanted = process.argv.slice(2);
let reproduced = 0;
for (const scenario of SCENARIOS) {
  if (wanted.length > 0 && !wanted.includes(scenario.name)) continue;
  console.log(`\n${scenario.name}: ${scenario.what}`);
  const shows = await withKit((kit) => scenario.run(kit, (line) => console.log(`  ${line}`)));
  console.log(`  => ${shows ? 'REPRODUCED' : 'not reproduced (database and emulator agree)'}`);
  if (shows) reproduced++;
}
process.exitCode = reproduced > 0 ? 1 : 0;
