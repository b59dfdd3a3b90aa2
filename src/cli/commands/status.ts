import type { Command } from 'commander';
import { statusReport, type StatusReport } from '../../operator/status-report.ts';
import { withOperatorContext } from '../operator-config.ts';
import {
  formatDuration,
  formatTable,
  formatTime,
  plural,
  printJson,
  printLine,
} from '../output.ts';

function printStatus(report: StatusReport): void {
  if (report.groups.length === 0) {
    printLine('No groups.');
  } else {
    printLine(
      formatTable(
        [
          'GROUP',
          'NAME',
          'AFILNET',
          'MEMBERS',
          'SYNCED',
          'PENDING',
          'FAILED',
          'HELD',
          'STATUS',
          'LAST SYNC',
        ],
        report.groups.map((g) => [
          g.id,
          g.exists ? g.name : '(deleted)',
          g.afilnetId,
          g.members,
          g.synced,
          g.pending,
          g.failed,
          g.heldDeletes,
          g.status ?? 'new',
          formatTime(g.lastSyncAt),
        ]),
        { maxWidth: 30 },
      ),
    );
    for (const g of report.groups.filter((x) => x.lastError)) {
      printLine(`  ${g.id}: ${g.lastError ?? ''}`);
    }
  }
  printLine();
  const q = report.queue ?? {};
  printLine(
    `Queue:   ${['waiting', 'active', 'delayed', 'prioritized', 'failed']
      .map((k) => `${q[k] ?? 0} ${k}`)
      .join(', ')}`,
  );
  const { lag } = report;
  const backlog = (n: number, noun: string, ageMs: number | null) =>
    n === 0 ? `no ${noun}s` : `${plural(n, noun)}, oldest ${formatDuration(ageMs)} old`;
  printLine(`Outbox:  ${backlog(lag.outboxRows, 'row', lag.oldestOutboxAgeMs)}`);
  printLine(`Dirty:   ${backlog(lag.dirtyMarks, 'mark', lag.oldestDirtyAgeMs)}`);
  if (report.rate) {
    const { rate, ceiling, source } = report.rate;
    printLine(
      `Rate:    ${Number(rate.toFixed(2))} calls/s allowed (ceiling ${ceiling}` +
        `${source === 'ceiling' ? ', nothing learned yet' : ''})`,
    );
  }
}

/**
 * `afilnet-sync status [--json]`: per group progress and problems, queue depths, outbox lag and
 * the allowed API rate. Needs Postgres and Redis; either unreachable is one line and exit 1.
 */
export function registerStatusCommand(program: Command): void {
  program
    .command('status')
    .description('Show each group’s sync progress, queue depths, outbox lag and the API rate')
    .option('--json', 'print the report as JSON')
    .action(async (options: { json?: boolean }) => {
      const report = await withOperatorContext({ redis: true }, ({ stores, prefix, rateCeiling }) =>
        statusReport({
          pool: stores.pool,
          queue: stores.queue,
          redis: stores.redis,
          ...(prefix !== null ? { prefix } : {}),
          rateCeiling,
        }),
      );
      if (options.json === true) printJson(report);
      else printStatus(report);
    });
}
