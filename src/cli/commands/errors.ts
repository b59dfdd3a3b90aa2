import type { Command } from 'commander';
import type { ErrorReport } from '../../operator/error-report.ts';
import { formatTable, formatTime, printJson, printLine } from '../output.ts';

/** Built on first use: zod is loaded only when the command runs, not for `--help`. */
async function optionsSchema() {
  const { z } = await import('zod');
  return z.object({
    group: z.string().min(1).optional(),
    limit: z.coerce.number().int().positive(),
    json: z.boolean().optional(),
  });
}

function printErrors(report: ErrorReport): void {
  if (report.members.length + report.groups.length + report.holds.length === 0) {
    printLine('No failing members, no group problems, no open holds.');
    return;
  }
  if (report.groups.length > 0) {
    printLine('Groups:');
    printLine(
      formatTable(
        ['GROUP', 'NAME', 'STATUS', 'SINCE', 'ERROR'],
        report.groups.map((g) => [g.groupId, g.name, g.status, formatTime(g.at), g.lastError]),
        { maxWidth: 100 },
      ),
    );
    printLine();
  }
  if (report.holds.length > 0) {
    printLine('Held deletes (approve with `afilnet-sync approve-deletes <group>`):');
    printLine(
      formatTable(
        ['GROUP', 'KIND', 'COUNT', 'SINCE', 'REASON'],
        report.holds.map((h) => [h.groupId, h.kind, h.count, formatTime(h.createdAt), h.reason]),
        { maxWidth: 100 },
      ),
    );
    printLine();
  }
  if (report.failedMembers > 0) {
    const shown = report.members.length;
    printLine(
      `Failed members: ${report.failedMembers}` +
        (shown < report.failedMembers ? ` (the ${shown} most recent shown)` : ''),
    );
    printLine(
      formatTable(
        ['GROUP', 'CONTACT', 'METHOD', 'WHEN', 'ERROR'],
        report.members.map((m) => [
          m.groupId,
          m.contactId,
          m.lastMethod,
          formatTime(m.at),
          m.lastError,
        ]),
        { maxWidth: 100 },
      ),
    );
    printLine('Fix the cause, then `afilnet-sync retry --group <id>` (or --all).');
  }
}

/** `afilnet-sync errors [--group <id>] [--limit <n>] [--json]`: what needs an operator. */
export function registerErrorsCommand(program: Command): void {
  program
    .command('errors')
    .description('List failing members, groups that failed, warn or are held, and open holds')
    .option('--group <id>', 'only this group')
    .option('--limit <n>', 'list at most this many failed members, most recent first', '1000')
    .option('--json', 'print the report as JSON')
    .action(async (raw: unknown, command: Command) => {
      const parsed = (await optionsSchema()).safeParse(raw);
      if (!parsed.success)
        command.error(`error: --limit must be a positive integer`, { exitCode: 2 });
      const options = parsed.data;
      const { errorReport } = await import('../../operator/error-report.ts');
      const { withOperatorContext } = await import('../operator-config.ts');
      const report = await withOperatorContext({ redis: false }, ({ stores }) =>
        errorReport(
          { pool: stores.pool },
          {
            limit: options.limit,
            ...(options.group !== undefined ? { groupId: options.group } : {}),
          },
        ),
      );
      if (options.json === true) printJson(report);
      else printErrors(report);
    });
}
