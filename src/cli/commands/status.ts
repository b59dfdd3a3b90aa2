import type { Command } from 'commander';
import type { StatusHealth } from '../../operator/status-health.ts';
import type { ControlledStatus } from '../../operator/group-controls.ts';
import type { GroupRun } from '../../state/group-runs.ts';
import { EXIT } from '../exit.ts';
import { formatAgo, formatDuration, formatTable, plural, printJson, printLine } from '../output.ts';

/** Built on first use: zod is loaded only when the command runs, not for `--help`. */
async function optionsSchema() {
  const { z } = await import('zod');
  return z.object({
    group: z.array(z.string().min(1)).default([]),
    problems: z.boolean().optional(),
    maxLag: z.coerce.number().positive().default(900),
    json: z.boolean().optional(),
  });
}

function printStatus(
  report: ControlledStatus,
  health: StatusHealth,
  runs: Record<string, GroupRun[]>,
): void {
  printLine(health.verdict);
  printLine();
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
          g.paused ? 'paused' : (g.status ?? 'new'),
          formatAgo(g.lastSyncAt, report.at),
        ]),
        { maxWidth: 30 },
      ),
    );
    for (const g of report.groups.filter((x) => x.lastError)) {
      printLine(`  ${g.id}: ${g.lastError ?? ''}`);
    }
    for (const g of report.groups.filter((x) => x.paused)) {
      printLine(`  ${g.id}: paused since ${g.paused?.at ?? ''} by ${g.paused?.by ?? 'unknown'}`);
    }
    for (const g of report.groups.filter((x) => x.optOuts > 0)) {
      printLine(`  ${g.id}: ${plural(g.optOuts, 'opt-out')} (removed in Afilnet; opt-outs list)`);
    }
    for (const g of report.groups.filter((x) => x.shadow)) {
      const calls = Object.entries(g.shadow?.calls ?? {})
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([m, n]) => `${m} ${n} (${g.shadow?.contacts[m] ?? n})`)
        .join(', ');
      printLine(`  ${g.id}: shadow plan (nothing sent): ${calls || 'no calls'}`);
    }
    for (const g of report.groups.filter((x) => x.orphanNote)) {
      printLine(`  ${g.id}: possible orphan: ${g.orphanNote ?? ''}`);
    }
    for (const g of report.groups) {
      const seg = g.segment;
      if (!seg) continue;
      const when = seg.lastEvaluatedAt ? formatAgo(seg.lastEvaluatedAt, report.at) : 'never';
      printLine(
        `  ${g.id}: segment, ${plural(seg.size, 'member')}, last evaluated whole ${when}` +
          (seg.timeDependent ? ', re-evaluated on schedule' : '') +
          (seg.error ? `; failing: ${seg.error}` : ''),
      );
    }
  }
  printLine();
  for (const [groupId, list] of Object.entries(runs)) {
    printLine(`Last runs of ${groupId}:`);
    printLine(
      formatTable(
        ['STARTED', 'SECONDS', 'OUTCOME', 'CALLS', 'SYNCED', 'FAILED', 'ERROR'],
        list.map((r) => [
          r.startedAt,
          ((Date.parse(r.finishedAt) - Date.parse(r.startedAt)) / 1000).toFixed(1),
          r.outcome,
          Object.entries(r.calls)
            .map(([m, n]) => `${m} ${n}`)
            .join(', ') || '-',
          r.synced,
          r.failed,
          r.error,
        ]),
        { maxWidth: 40 },
      ),
    );
    printLine();
  }
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
  if (report.segmentConfinement) printLine(`Segments: ${report.segmentConfinement}`);
  if (report.accountPause) {
    printLine(`Account: PAUSED, ${report.accountPause.reason}; probing until Afilnet answers`);
  }
  if (report.rate) {
    const { rate, ceiling, source } = report.rate;
    printLine(
      `Rate:    ${Number(rate.toFixed(2))} calls/s allowed (ceiling ${ceiling}` +
        `${source === 'ceiling' ? ', nothing learned yet' : ''})`,
    );
  }
}

/**
 * `afilnet-sync status [--group <id>]… [--problems] [--max-lag <s>] [--json]`: a one-line verdict,
 * then per group progress and problems, queue depths, outbox lag and the allowed API rate. Exit 0
 * healthy, 3 unhealthy (no daemon, a failed group, changes waiting too long); a store unreachable
 * is one line and exit 1.
 */
export function registerStatusCommand(program: Command): void {
  program
    .command('status')
    .description('Say whether the sync is healthy; show each group, the queue, the lag, the rate')
    .option(
      '--group <id>',
      'only this group; repeatable',
      (value: string, previous: string[] | undefined) => [...(previous ?? []), value],
    )
    .option('--problems', 'only groups with problems: failed, warned, held or failing members')
    .option('--max-lag <seconds>', 'unhealthy when a change waits longer (default: 900)')
    .option('--json', 'print the report and the verdict as JSON')
    .action(async (raw: unknown, command: Command) => {
      const parsed = (await optionsSchema()).safeParse(raw);
      if (!parsed.success) {
        command.error('error: --max-lag must be a positive number of seconds', { exitCode: 2 });
      }
      const options = parsed.data;
      const { statusReport } = await import('../../operator/status-report.ts');
      const { groupHasProblems, judgeStatus } = await import('../../operator/status-health.ts');
      const { withGroupControls } = await import('../../operator/group-controls.ts');
      const { withOperatorContext } = await import('../operator-config.ts');
      const full = await withOperatorContext(
        { redis: true },
        async ({ stores, prefix, rateCeiling }) =>
          withGroupControls(
            stores.pool,
            await statusReport({
              pool: stores.pool,
              queue: stores.queue,
              redis: stores.redis,
              ...(prefix !== null ? { prefix } : {}),
              rateCeiling,
            }),
          ),
      );
      const unknown = options.group.filter((id) => !full.groups.some((g) => g.id === id));
      if (unknown.length > 0) throw new Error(`No group "${unknown.join('", "')}"`);
      const asked =
        options.group.length > 0
          ? full.groups.filter((g) => options.group.includes(g.id))
          : full.groups;
      const health = judgeStatus(full, asked, { maxLagMs: options.maxLag * 1000 });
      const report = {
        ...full,
        groups: options.problems === true ? asked.filter(groupHasProblems) : asked,
      };
      // --group also shows each named group's last runs (sync_group_runs, newest first).
      const { readGroupRuns } = await import('../../state/group-runs.ts');
      const runs: Record<string, GroupRun[]> = {};
      if (options.group.length > 0) {
        await withOperatorContext({ redis: false }, async ({ stores }) => {
          for (const id of options.group) runs[id] = await readGroupRuns(stores.pool, id, 10);
        });
      }
      if (options.json === true) printJson({ ...report, health, runs });
      else printStatus(report, health, runs);
      process.exitCode = health.healthy ? EXIT.ok : EXIT.unhealthy;
    });
}
