import { userInfo } from 'node:os';
import type { Command } from 'commander';
import { printJson, printLine } from '../output.ts';

/** Who acted, as recorded on the group: the local user, marked as coming from the CLI. */
export function cliOperator(): string {
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return 'cli';
  }
}

/**
 * `afilnet-sync pause <group-id> [--json]`: stops syncing one group (no call for it) while its
 * changes keep collecting; `resume` sends their net effect. An unknown group is exit 1.
 */
export function registerPauseCommand(program: Command): void {
  program
    .command('pause')
    .description('Pause one group: no Afilnet call for it until resume; changes keep collecting')
    .argument('<group-id>', 'the group (groups.id)')
    .option('--json', 'print the result as JSON')
    .action(async (groupId: string, options: { json?: boolean }, command: Command) => {
      if (groupId.trim() === '')
        command.error('error: <group-id> must not be empty', { exitCode: 2 });
      const { pauseGroupSync } = await import('../../operator/group-pause.ts');
      const { withOperatorContext } = await import('../operator-config.ts');
      const result = await withOperatorContext({ redis: false }, (ctx) =>
        pauseGroupSync({ pool: ctx.stores.pool }, groupId, cliOperator()),
      );
      if (options.json === true) printJson(result);
      else
        printLine(
          `Group ${groupId} is paused (since ${result.pausedAt}, by ${result.pausedBy}): its changes ` +
            'are kept and sent, net, when you run resume.',
        );
    });
}
