import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import type { Cmd } from '../test/model/commands.ts';
import type { Mode } from '../test/model/model.ts';
import { formatReport, replay, runModel, type ModelReport } from '../test/model/runner.ts';
import { startWorld } from '../test/model/world.ts';

/**
 * The model-based test's long budget: `npm run model -- --runs N [--seed S] [--mode normal|strict|both]
 * [--max-commands M] [--path P --replay-path R] [--time-limit-s T] [--replay file.json]`.
 * Needs DATABASE_URL (a role that may CREATE DATABASE) and REDIS_URL. Exit 1 on a counterexample.
 */
const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '10' },
    seed: { type: 'string' },
    mode: { type: 'string', default: 'both' },
    'max-commands': { type: 'string', default: '25' },
    path: { type: 'string' },
    'replay-path': { type: 'string' },
    'time-limit-s': { type: 'string', default: '1800' },
    'no-shrink': { type: 'boolean', default: false },
    replay: { type: 'string' },
  },
});
const databaseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const modes: Mode[] = values.mode === 'both' ? ['normal', 'strict'] : [values.mode as Mode];
if (!modes.every((m) => m === 'normal' || m === 'strict')) {
  console.error('--mode must be normal, strict or both');
  process.exit(2);
}

const world = await startWorld(databaseUrl, redisUrl);
let failed = false;
try {
  if (values.replay) {
    const cmds = JSON.parse(await readFile(values.replay, 'utf8')) as Cmd[];
    for (const mode of modes) {
      const r = await replay(world, mode, cmds);
      console.log(
        `[${mode}] replayed ${r.executed.length} commands in ${(r.ms / 1000).toFixed(1)} s`,
      );
      for (const p of r.problems) console.log(`  - ${p}`);
      failed ||= r.problems.length > 0;
    }
  } else {
    const reports: ModelReport[] = [];
    for (const mode of modes) {
      const report = await runModel(world, {
        mode,
        runs: Number(values.runs),
        maxCommands: Number(values['max-commands']),
        seed: values.seed === undefined ? undefined : Number(values.seed),
        path: values.path,
        replayPath: values['replay-path'],
        timeLimitMs: Number(values['time-limit-s']) * 1000,
        endOnFailure: values['no-shrink'],
        log: (line) => console.log(line),
      });
      reports.push(report);
      console.log(formatReport(report));
      failed ||= report.failed;
    }
    const total = reports.reduce(
      (t, r) => ({ s: t.s + r.sequences, c: t.c + r.commands, ms: t.ms + r.ms }),
      { s: 0, c: 0, ms: 0 },
    );
    console.log(
      `total: ${total.s} sequences, ${total.c} commands, ${(total.ms / 1000).toFixed(0)} s, ` +
        `${reports.filter((r) => r.failed).length} counterexample(s)`,
    );
  }
} finally {
  await world.close();
}
process.exit(failed ? 1 : 0);
