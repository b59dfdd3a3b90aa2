import { hostname, userInfo } from 'node:os';
import type { Command } from 'commander';
import type pg from 'pg';
import type { z } from 'zod';
import type { ResyncItem, ResyncRun } from '../../resync/index.ts';
import { EXIT } from '../exit.ts';
import { printJson, printLine } from '../output.ts';

/** Built on first use: zod is loaded only when the command runs, not for `--help`. */
async function optionsSchema() {
  const { z } = await import('zod');
  return z.object({
    group: z.array(z.string().min(1)).default([]),
    all: z.boolean().optional(),
    dryRun: z.boolean().optional(),
    json: z.boolean().optional(),
  });
}

type ResyncOptions = z.infer<Awaited<ReturnType<typeof optionsSchema>>>;
type FollowResync = typeof import('../../resync/follow-resync.ts').followResync;

const EXAMPLES_PER_KIND = 3;

/** `user@host`, as the run records who asked. */
function whoAmI(): string {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // No passwd entry (some containers): the host still says where it came from.
  }
  return `${user}@${hostname()}`;
}

/**
 * `afilnet-sync resync [--group <id>]… [--all] [--dry-run] [--json]`: reads the remote groups
 * again and compares them with the database. A dry run prints what differs and exits; otherwise
 * the running daemon applies the resync and this command follows it to the end (exit 0 when
 * done, 1 when a group failed). Progress goes to stderr: a bar per group on a terminal, plain
 * lines otherwise. Ctrl+C stops following, not the resync (exit 130).
 */
export function registerResyncCommand(program: Command): void {
  program
    .command('resync')
    .description('Read groups back from Afilnet, report how they differ, and repair the difference')
    .option(
      '--group <id>',
      'a group to resync; repeatable',
      (value: string, previous: string[] | undefined) => [...(previous ?? []), value],
    )
    .option('--all', 'every group that has a remote group')
    .option('--dry-run', 'report the differences only; change nothing')
    .option('--json', 'print the run as JSON')
    .action(async (raw: unknown, command: Command) => {
      const parsed = (await optionsSchema()).safeParse(raw);
      if (!parsed.success) command.error('error: --group needs a non-empty id', { exitCode: 2 });
      const options = parsed.data;
      const { loadDaemonConfig } = await import('../../config/config.ts');
      const { pino } = await import('pino');
      const { createLogger } = await import('../../observability/logger.ts');
      const { exampleItems, startResync } = await import('../../resync/index.ts');
      const { formatOutcome, formatPlanReport } = await import('../../resync/report-text.ts');
      const { openResyncServices } = await import('../../resync/resync-services.ts');
      const config = loadDaemonConfig();
      // Logs go to stderr and only when something is wrong: stdout holds the report.
      const logger = createLogger(
        { level: 'warn', name: 'afilnet-sync-resync' },
        pino.destination(2),
      );
      const { followResync } = await import('../../resync/follow-resync.ts');
      const services = await openResyncServices(config, logger);
      const stop = new AbortController();
      const onSignal = () => stop.abort();
      process.once('SIGINT', onSignal);
      try {
        let following: Promise<ResyncRun> | undefined;
        const started = await startResync(services, {
          groups: options.group,
          all: options.all === true,
          dryRun: options.dryRun === true,
          startedBy: whoAmI(),
          onRunCreated: (runId) => {
            following = follow(followResync, services.pool, runId, options, stop.signal);
          },
        });
        // A dry run has planned by now: its follower only needs to draw the last state.
        if (started.dryRun) stop.abort();
        const followed = await following;
        const run = started.dryRun || !followed ? started : followed;
        const examples: ResyncItem[] = [];
        for (const groupId of run.groupIds) {
          examples.push(...(await exampleItems(services.pool, run.id, groupId, EXAMPLES_PER_KIND)));
        }
        if (options.json) printJson({ ...run, examples });
        else printLine(run.dryRun ? formatPlanReport(run, examples) : formatOutcome(run));
        // 130: following was interrupted (Ctrl+C) before the daemon finished.
        const finished = run.status !== 'planning' && run.status !== 'applying';
        process.exitCode =
          run.status === 'failed' ? EXIT.failure : finished ? EXIT.ok : EXIT.interrupted;
      } finally {
        process.off('SIGINT', onSignal);
        await services.close();
      }
    });
}

/** Shows the run's progress on stderr until it ends or `signal` aborts. */
function follow(
  followResync: FollowResync,
  pool: pg.Pool,
  runId: string,
  options: ResyncOptions,
  signal: AbortSignal,
): Promise<ResyncRun> {
  if (!options.dryRun && !options.json) {
    process.stderr.write(
      `Resync run ${runId} requested; the running daemon applies it. ` +
        'Ctrl+C stops following (the resync goes on).\n',
    );
  }
  return followResync(pool, runId, {
    out: process.stderr,
    tty: process.stdout.isTTY && process.stderr.isTTY,
    quiet: options.json === true,
    signal,
  });
}
