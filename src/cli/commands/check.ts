import type { Command } from 'commander';
import type { CheckResult } from '../../operator/check-setup.ts';
import { EXIT } from '../exit.ts';
import { printJson, printLine } from '../output.ts';

function printChecks(results: readonly CheckResult[]): void {
  for (const r of results) {
    printLine(`${r.ok ? 'ok     ' : 'PROBLEM'}  ${r.name.padEnd(8)}  ${r.detail}`);
    if (r.fix !== null) printLine(`${' '.repeat(19)}fix: ${r.fix}`);
  }
  const problems = results.filter((r) => !r.ok).length;
  printLine();
  printLine(
    problems === 0 ? 'All checks passed.' : `${problems} of ${results.length} checks failed.`,
  );
}

/**
 * `afilnet-sync check [--json]`: is this host ready to run the daemon? Postgres reachable and
 * migrated, Redis reachable with maxmemory-policy noeviction (and whether AOF is on), the Afilnet
 * credentials accepted. One line per check with the fix for a problem. Exit 0 when all pass,
 * 1 when any does not.
 */
export function registerCheckCommand(program: Command): void {
  program
    .command('check')
    .description('Check Postgres (migrated), Redis (noeviction) and the Afilnet credentials')
    .option('--json', 'print {"ok": …, "checks": [...]} instead of text')
    .action(async (options: { json?: boolean }) => {
      const { readSetupSettings, runSetupChecks } = await import('../../operator/check-setup.ts');
      const results = await runSetupChecks(readSetupSettings());
      const ok = results.every((r) => r.ok);
      if (options.json === true) printJson({ ok, checks: results });
      else printChecks(results);
      process.exitCode = ok ? EXIT.ok : EXIT.failure;
    });
}
