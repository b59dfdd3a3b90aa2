import type { Command } from 'commander';
import { plural, printJson, printLine } from '../output.ts';

/** Built on first use: zod is loaded only when the command runs, not for `--help`. */
async function optionsSchema() {
  const { z } = await import('zod');
  return z.object({
    group: z.array(z.string().min(1)).default([]),
    all: z.boolean().optional(),
    json: z.boolean().optional(),
  });
}

/**
 * `afilnet-sync retry (--group <id>… | --all) [--json]`: after the cause of failures is fixed,
 * marks failed members and groups dirty again and queues their groups. Requires a scope, so
 * that retrying everything is always a deliberate choice.
 */
export function registerRetryCommand(program: Command): void {
  program
    .command('retry')
    .description('Re-queue failed members and groups once the cause is fixed')
    .option(
      '--group <id>',
      'retry this group (repeatable)',
      (value: string, previous: string[] | undefined) => [...(previous ?? []), value],
    )
    .option('--all', 'retry every group')
    .option('--json', 'print the counts as JSON')
    .action(async (raw: unknown, command: Command) => {
      const parsed = (await optionsSchema()).safeParse(raw);
      if (!parsed.success) command.error('error: --group needs a non-empty id', { exitCode: 2 });
      const options = parsed.data;
      if (options.all === true && options.group.length > 0) {
        command.error('error: use either --group or --all, not both', { exitCode: 2 });
      }
      if (options.all !== true && options.group.length === 0) {
        command.error('error: say what to retry: --group <id> (repeatable) or --all', {
          exitCode: 2,
        });
      }
      const { retryFailed } = await import('../../operator/retry-failed.ts');
      const { queueOf, withOperatorContext } = await import('../operator-config.ts');
      const scope = options.all === true ? { all: true as const } : { groupIds: options.group };
      const result = await withOperatorContext({ redis: true }, (ctx) =>
        retryFailed({ pool: ctx.stores.pool, queue: queueOf(ctx) }, scope),
      );
      if (options.json === true) {
        printJson(result);
      } else if (result.enqueued.length === 0) {
        printLine('Nothing to retry: no failed members or groups.');
      } else {
        printLine(
          `Marked ${plural(result.members, 'failed member')} and ${plural(result.groups, 'failed group')} ` +
            `for another sync; queued ${plural(result.enqueued.length, 'group')}: ${result.enqueued.join(', ')}`,
        );
      }
    });
}
