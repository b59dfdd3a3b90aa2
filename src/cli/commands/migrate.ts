import type { Command } from 'commander';

/**
 * `afilnet-sync migrate [--json]`: applies pending migrations to DATABASE_URL. Failures (an
 * unreachable database, a recorded failed migration) reach the root command's error handler,
 * which prints one line and exits non-zero.
 */
export function registerMigrateCommand(program: Command): void {
  program
    .command('migrate')
    .description('Apply pending database migrations (prisma/migrations) to DATABASE_URL')
    .option('--json', 'print {"applied": [...]} instead of text')
    .action(async (options: { json?: boolean }) => {
      const { loadDatabaseUrl } = await import('../../config/config.ts');
      const { migrate } = await import('../../db/migrate.ts');
      const databaseUrl = loadDatabaseUrl();
      const json = options.json === true;
      const log = json ? undefined : (line: string) => process.stdout.write(`${line}\n`);
      const { applied } = await migrate(databaseUrl, log ? { log } : {});
      if (json) {
        process.stdout.write(`${JSON.stringify({ applied })}\n`);
      } else if (applied.length === 0) {
        process.stdout.write('Database is up to date: no pending migrations.\n');
      } else {
        process.stdout.write(`Applied ${applied.length} migration(s): ${applied.join(', ')}\n`);
      }
    });
}
