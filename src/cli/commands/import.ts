import type { Command } from 'commander';
import type { ImportProgress, ImportSummary } from '../../operator/import/import-contacts.ts';
import { EXIT } from '../exit.ts';
import { plural, printJson, printLine } from '../output.ts';

/** Built on first use: zod is loaded only when the command runs, not for `--help`. */
async function optionsSchema() {
  const { z } = await import('zod');
  return z.object({
    group: z.string().min(1).optional(),
    report: z.string().min(1).optional(),
    format: z.enum(['csv', 'ndjson']).optional(),
    maxRejects: z.coerce.number().int().min(0).default(0),
    json: z.boolean().optional(),
  });
}

/**
 * Progress on stderr (stdout stays for the summary): a bar on a terminal, otherwise a plain
 * line every few seconds, which reads well in a CI log or a cron mail.
 */
async function progressPrinter(): Promise<{
  update: (p: ImportProgress) => void;
  stop: () => void;
}> {
  const mb = (bytes: number) => (bytes / 1e6).toFixed(1);
  if (process.stderr.isTTY) {
    const { SingleBar } = await import('cli-progress');
    const bar = new SingleBar(
      {
        format:
          'importing [{bar}] {percentage}% | {mb} MB | {rows} rows, {rejected} rejected | {phase}',
        stream: process.stderr,
        hideCursor: true,
      },
      undefined,
    );
    let started = false;
    return {
      update(p) {
        const payload = { mb: mb(p.bytesRead), rows: p.read, rejected: p.rejected, phase: p.phase };
        if (!started) bar.start(Math.max(p.totalBytes, 1), 0, payload);
        started = true;
        bar.update(p.bytesRead, payload);
      },
      stop: () => started && bar.stop(),
    };
  }
  // Quiet for small files: the first line comes after 5 s, then one every 5 s; the switch to
  // applying is announced only for an import that has already taken that long.
  const started = Date.now();
  let last = started;
  return {
    update(p) {
      const since = p.phase === 'reading' ? last : started;
      if (Date.now() - since < 5_000) return;
      last = Date.now();
      const pct = p.totalBytes > 0 ? Math.floor((p.bytesRead * 100) / p.totalBytes) : 100;
      const what = p.phase === 'reading' ? `${pct}% read` : 'applying to contacts';
      process.stderr.write(`import: ${what}, ${p.read} rows, ${p.rejected} rejected\n`);
    },
    stop: () => undefined,
  };
}

function printSummary(s: ImportSummary): void {
  printLine(
    `Read ${plural(s.read, 'row')} in ${s.seconds.toFixed(1)} s (${s.rowsPerSecond} rows/s): ` +
      `${s.imported} imported (${s.inserted} new, ${s.updated} changed), ${s.unchanged} unchanged, ` +
      `${s.rejected} rejected${s.duplicates > 0 ? `, ${s.duplicates} superseded by a later row with the same id` : ''}.`,
  );
  if (s.groupId !== null)
    printLine(`Group ${s.groupId}: ${plural(s.membersAdded, 'member')} added.`);
  if (s.rejected > 0) printLine(`Rejected rows are listed in ${s.reportPath}`);
}

/**
 * `afilnet-sync import <file> [--group <id>] [--report <path>] [--format csv|ndjson] [--json]`:
 * the CRM bulk path into `contacts`. Exits 1 when the file cannot be imported at all, and when
 * more rows were rejected than `--max-rejects` allows (default 0); the good rows are imported
 * either way, and the summary is printed.
 */
export function registerImportCommand(program: Command): void {
  program
    .command('import')
    .description('Bulk-import contacts from a CSV or NDJSON file (bad rows go to a report)')
    .argument('<file>', 'a .csv (header line; id required) or .ndjson/.jsonl file')
    .option('--group <id>', 'also add every imported contact to this group')
    .option('--report <path>', 'where to write rejected rows (default: <file>.errors.ndjson)')
    .option('--format <format>', 'csv or ndjson (default: from the file extension)')
    .option('--max-rejects <n>', 'exit 0 even with up to this many rejected rows (default: 0)')
    .option('--json', 'print the summary as JSON')
    .action(async (file: string, raw: unknown, command: Command) => {
      const parsed = (await optionsSchema()).safeParse(raw);
      if (!parsed.success) {
        command.error(
          `error: ${parsed.error.issues.map((i) => `--${i.path.join('.').replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}: ${i.message}`).join('; ')}`,
          {
            exitCode: 2,
          },
        );
      }
      const options = parsed.data;
      const { importContacts } = await import('../../operator/import/import-contacts.ts');
      const { withOperatorContext } = await import('../operator-config.ts');
      const printer = await progressPrinter();
      let summary: ImportSummary;
      try {
        summary = await withOperatorContext({ redis: false }, ({ stores }) =>
          importContacts(
            { pool: stores.pool },
            {
              file,
              onProgress: printer.update,
              ...(options.format ? { format: options.format } : {}),
              ...(options.group !== undefined ? { groupId: options.group } : {}),
              ...(options.report !== undefined ? { reportPath: options.report } : {}),
            },
          ),
        );
      } finally {
        printer.stop();
      }
      if (options.json === true) printJson(summary);
      else printSummary(summary);
      if (summary.rejected > options.maxRejects) {
        process.exitCode = EXIT.failure;
        if (options.json !== true) {
          process.stderr.write(
            `afilnet-sync: ${plural(summary.rejected, 'row')} rejected, more than --max-rejects ${options.maxRejects}\n`,
          );
        }
      }
    });
}
