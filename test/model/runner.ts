import fc from 'fast-check';
import { checkRun, quiesce } from './check.ts';
import {
  applicable,
  commandArbitraries,
  execute,
  ModelCommand,
  type Cmd,
  type Real,
} from './commands.ts';
import { emptyModel, noteMains, type Mode, type Model } from './model.ts';
import { RunEnv, type World } from './world.ts';

export interface SequenceResult {
  executed: Cmd[];
  problems: string[];
  ms: number;
}

/**
 * Every generated sequence starts from one group with three members, so that the generated
 * commands act on something from the first one (it is part of the printed command list).
 */
export function prelude(mode: Mode): Cmd[] {
  return [
    {
      k: 'createGroup',
      g: 'g1',
      type: 'mobile',
      attrs: ['name'],
      link: mode === 'strict' ? { columns: ['name'], foreign: [] } : null,
    },
    ...[1, 2, 3].map((i): Cmd => ({
      k: 'upsertContact',
      c: `c${i}`,
      mobile: `3460000000${i}`,
      email: null,
      name: 'Ana',
      city: null,
    })),
    ...[1, 2, 3].map((i): Cmd => ({ k: 'addMember', g: 'g1', c: `c${i}` })),
  ];
}

/** Starts a run's daemon and waits until its relay answers (the database is empty). */
async function begin(world: World, mode: Mode): Promise<{ run: RunEnv; model: Model }> {
  const run = await RunEnv.create(world, mode);
  run.startDaemon();
  return { run, model: emptyModel(mode) };
}

/** Quiesces and checks; closes the run. Problems of the daemon's own exits are added. */
async function finish(
  run: RunEnv,
  model: Model,
  executed: Cmd[],
  t0: number,
  quiesceMs?: number,
): Promise<SequenceResult> {
  try {
    const stuck = await quiesce(run, model, quiesceMs);
    const problems = stuck ? [stuck] : await checkRun(run, model);
    for (const crash of run.crashes)
      problems.push(`daemon exited on its own: ${crash.slice(-500)}`);
    if (problems.length > 0 && process.env.MODEL_DAEMON_LOG)
      problems.push(`daemon output: ${run.daemonOutput.slice(-3_000)}`);
    if (problems.length > 0 && process.env.MODEL_DUMP_STATE) {
      // For a human reading a counterexample: what the daemon believes, and what Afilnet holds.
      const states = await run.pool.query(
        `SELECT group_id, contact_id, remote_id, main_value, synced_fields, uncertain, status,
                last_method, last_result, last_error FROM sync_member_state ORDER BY 1, 2`,
      );
      const remote = await fetch(`${run.emulatorUrl}/__emulator/state`).then((r) => r.text());
      problems.push(`member state: ${JSON.stringify(states.rows)}`, `remote: ${remote}`);
    }
    return { executed, problems, ms: Date.now() - t0 };
  } finally {
    await run.close();
  }
}

/**
 * Replays an exact command list (a regression): commands that do not apply to the model at
 * their turn are skipped, as fast-check would.
 */
export async function replay(
  world: World,
  mode: Mode,
  cmds: Cmd[],
  opts: { quiesceMs?: number } = {},
): Promise<SequenceResult> {
  const t0 = Date.now();
  const { run, model } = await begin(world, mode);
  const real: Real = { run, executed: [] };
  try {
    for (const cmd of cmds) {
      if (!applicable(cmd, model)) continue;
      real.executed.push(cmd);
      await execute(cmd, model, real);
      noteMains(model);
    }
  } catch (err) {
    await run.close();
    throw err;
  }
  return finish(run, model, real.executed, t0, opts.quiesceMs);
}

export interface ModelOptions {
  mode: Mode;
  runs: number;
  maxCommands: number;
  seed?: number | undefined;
  path?: string | undefined;
  replayPath?: string | undefined;
  /** Stop shrinking (and new runs) after this long; the smallest failure so far is reported. */
  timeLimitMs?: number | undefined;
  /** How long quiesce waits before it reports "did not quiesce" (default 3 minutes). */
  quiesceMs?: number | undefined;
  /** No shrinking: report the first failure as it is. */
  endOnFailure?: boolean | undefined;
  log?: (line: string) => void;
}

export interface ModelReport {
  mode: Mode;
  seed: number;
  sequences: number;
  commands: number;
  failed: boolean;
  path: string | null;
  /** fast-check's own replay path for `fc.commands` (with seed and path: the exact shrunk case). */
  replayPath: string | null;
  /** The smallest failing command list found, as JSON-able data, with its problems. */
  counterexample: SequenceResult | null;
  /** What was thrown when a sequence failed by an exception (a command or the rig), not a check. */
  error: string | null;
  numShrinks: number;
  ms: number;
}

/** Runs the property: random command sequences, each ending with quiesce and the check. */
export async function runModel(world: World, opts: ModelOptions): Promise<ModelReport> {
  const log = opts.log ?? (() => undefined);
  const t0 = Date.now();
  let sequences = 0;
  let commands = 0;
  let lastFailure: SequenceResult | null = null;
  const property = fc.asyncProperty(
    fc.commands(
      commandArbitraries(opts.mode).map((a) => a.map((cmd) => new ModelCommand(cmd))),
      {
        maxCommands: opts.maxCommands,
        size: 'large',
        ...(opts.replayPath !== undefined ? { replayPath: opts.replayPath } : {}),
      },
    ),
    async (cmds) => {
      const t = Date.now();
      const { run, model } = await begin(world, opts.mode);
      const real: Real = { run, executed: [] };
      try {
        for (const cmd of prelude(opts.mode)) await new ModelCommand(cmd).run(model, real);
        await fc.asyncModelRun(() => ({ model, real }), cmds);
      } catch (err) {
        await run.close();
        throw err;
      }
      const result = await finish(run, model, real.executed, t, opts.quiesceMs);
      sequences++;
      commands += result.executed.length;
      log(
        `[${opts.mode}] sequence ${sequences}: ${result.executed.length} commands, ${(result.ms / 1000).toFixed(1)} s, ` +
          `${result.problems.length === 0 ? 'ok' : `${result.problems.length} problems`}`,
      );
      for (const p of result.problems.slice(0, 3)) log(`    - ${p.slice(0, 400)}`);
      if (result.problems.length > 0) {
        lastFailure = result;
        throw new Error(result.problems.join('\n'));
      }
    },
  );
  const plugins = opts.timeLimitMs ? [fc.interruptAfterTimeLimit(opts.timeLimitMs)] : [];
  const details = await fc.check(property, {
    numRuns: opts.runs,
    ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
    ...(opts.path !== undefined ? { path: opts.path } : {}),
    endOnFailure: opts.endOnFailure ?? false,
    plugins,
  });
  return {
    mode: opts.mode,
    seed: details.seed,
    sequences,
    commands,
    failed: details.failed,
    path: details.counterexamplePath,
    replayPath:
      /replayPath="([^"]*)"/.exec(
        String((details.counterexample as { toString(): string }[] | null)?.[0]?.toString() ?? ''),
      )?.[1] ?? null,
    counterexample: details.failed ? lastFailure : null,
    error: details.failed ? thrown(details.errorInstance) : null,
    numShrinks: details.numShrinks,
    ms: Date.now() - t0,
  };
}

/** What a sequence threw (a command or the rig failing, not a check), with its cause. */
function thrown(err: unknown): string | null {
  if (!(err instanceof Error)) return null;
  const cause: unknown = err.cause;
  const why = cause instanceof Error ? `\n  cause: ${cause.name}: ${cause.message}` : '';
  return `${err.stack ?? err.message}${why}`.slice(0, 2_000);
}

/** A failure report a person can act on: seed, path, the shrunk command list, the problems. */
export function formatReport(r: ModelReport): string {
  if (!r.failed)
    return `[${r.mode}] ${r.sequences} sequences, ${r.commands} commands, no counterexample (seed ${r.seed})`;
  const c = r.counterexample;
  return [
    `[${r.mode}] COUNTEREXAMPLE after ${r.sequences} sequences (${r.numShrinks} shrinks)`,
    `  replay: npm run model -- --mode ${r.mode} --seed ${r.seed} --path ${r.path ?? '?'}` +
      (r.replayPath ? ` --replay-path ${r.replayPath}` : ''),
    `  commands (paste into test/model-regressions.test.ts):`,
    `  ${JSON.stringify(c?.executed ?? [])}`,
    `  problems:`,
    ...(c?.problems ?? ['(thrown before the check: see the error below)']).map((p) => `    - ${p}`),
    ...(r.error && !c ? [`  error: ${r.error}`] : []),
  ].join('\n');
}
