import type { Command } from 'commander';
import { formatTable, plural, printJson, printLine } from '../output.ts';

/**
 * `afilnet-sync opt-outs list [--group <id>] [--json]` and `opt-outs clear <group> <contact>`:
 * members removed in Afilnet that the daemon will not re-add (REMOTE_REMOVALS=respect).
 */
export function registerOptOutsCommand(program: Command): void {
  const optOuts = program
    .command('opt-outs')
    .description('List or clear members removed in Afilnet, which the daemon does not re-add');
  optOuts
    .command('list')
    .description('List opt-outs: group, contact, main value, when found and how')
    .option('--group <id>', 'only this group')
    .option('--json', 'print the list as JSON')
    .action(async (options: { group?: string; json?: boolean }) => {
      const { optOutReport } = await import('../../operator/opt-outs.ts');
      const { withOperatorContext } = await import('../operator-config.ts');
      const report = await withOperatorContext({ redis: false }, (ctx) =>
        optOutReport({ pool: ctx.stores.pool }, options.group ?? null),
      );
      if (options.json === true) return printJson(report);
      if (report.optOuts.length === 0) return printLine('No opt-outs.');
      printLine(
        formatTable(
          ['GROUP', 'CONTACT', 'MAIN VALUE', 'DETECTED', 'HOW'],
          report.optOuts.map((o) => [o.groupId, o.contactId, o.mainValue, o.detectedAt, o.source]),
          { maxWidth: 30 },
        ),
      );
      printLine(`${plural(report.optOuts.length, 'opt-out')}.`);
    });
  optOuts
    .command('clear')
    .description('Clear one opt-out: the member is added to Afilnet again if still a member')
    .argument('<group-id>', 'the group (groups.id)')
    .argument('<contact-id>', 'the contact (contacts.id)')
    .option('--json', 'print the result as JSON')
    .action(async (groupId: string, contactId: string, options: { json?: boolean }) => {
      const { clearContactOptOut } = await import('../../operator/opt-outs.ts');
      const { queueOf, withOperatorContext } = await import('../operator-config.ts');
      const result = await withOperatorContext({ redis: true }, (ctx) =>
        clearContactOptOut({ pool: ctx.stores.pool, queue: queueOf(ctx) }, groupId, contactId),
      );
      if (options.json === true) printJson(result);
      else
        printLine(
          `Opt-out of contact ${contactId} in group ${groupId} cleared: the daemon adds it again.`,
        );
    });
}
