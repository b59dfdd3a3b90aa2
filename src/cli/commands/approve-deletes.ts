import { userInfo } from 'node:os';
import type { Command } from 'commander';
import { plural, printJson, printLine } from '../output.ts';

/** Who approved, for sync_holds.approved_by: the local user, marked as coming from the CLI. */
function operatorName(): string {
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return 'cli';
  }
}

/**
 * `afilnet-sync approve-deletes <group-id> [--json]`: releases the mass-deletion guard's holds
 * on one group and has its deletes made now. An unknown group is an error (exit 1).
 */
export function registerApproveDeletesCommand(program: Command): void {
  program
    .command('approve-deletes')
    .description('Approve the deletes the mass-deletion guard holds for a group, and sync it now')
    .argument('<group-id>', 'the group (groups.id)')
    .option('--json', 'print the result as JSON')
    .action(async (groupId: string, options: { json?: boolean }, command: Command) => {
      if (groupId.trim() === '')
        command.error('error: <group-id> must not be empty', { exitCode: 2 });
      const { approveGroupDeletes } = await import('../../operator/approve-group-deletes.ts');
      const { queueOf, withOperatorContext } = await import('../operator-config.ts');
      const result = await withOperatorContext({ redis: true }, (ctx) =>
        approveGroupDeletes(
          { pool: ctx.stores.pool, queue: queueOf(ctx) },
          groupId,
          operatorName(),
        ),
      );
      if (options.json === true) {
        printJson(result);
      } else if (result.released === 0) {
        printLine(
          `No open holds for group ${groupId}: nothing to approve (the group was queued anyway).`,
        );
      } else {
        printLine(
          `Approved ${plural(result.released, 'hold')} for group ${groupId}: the daemon makes the held ` +
            `deletes now (the approval lasts one DELETE_GUARD_WINDOW_MS).`,
        );
      }
    });
}
