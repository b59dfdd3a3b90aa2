import type { Command } from 'commander';
import { printJson, printLine } from '../output.ts';

/** `afilnet-sync resume <group-id> [--json]`: resumes a paused group and syncs it now. */
export function registerResumeCommand(program: Command): void {
  program
    .command('resume')
    .description('Resume a paused group and sync the net change made while it was paused')
    .argument('<group-id>', 'the group (groups.id)')
    .option('--json', 'print the result as JSON')
    .action(async (groupId: string, options: { json?: boolean }, command: Command) => {
      if (groupId.trim() === '')
        command.error('error: <group-id> must not be empty', { exitCode: 2 });
      const { resumeGroupSync } = await import('../../operator/group-pause.ts');
      const { queueOf, withOperatorContext } = await import('../operator-config.ts');
      const result = await withOperatorContext({ redis: true }, (ctx) =>
        resumeGroupSync({ pool: ctx.stores.pool, queue: queueOf(ctx) }, groupId),
      );
      if (options.json === true) printJson(result);
      else if (result.resumed) printLine(`Group ${groupId} resumed: the daemon syncs it now.`);
      else printLine(`Group ${groupId} was not paused (it was queued anyway).`);
    });
}
