/**
 * `npm run drift`: fails when prisma/migrations does not build what prisma/schema.prisma
 * describes. Exit codes follow `prisma migrate diff --exit-code`: 0 in step, 2 drift (the SQL
 * that is missing from the migrations goes to stdout), 1 the check itself could not run.
 *
 * Usage: tsx src/db/check-drift.ts [--prisma-dir <folder>] [--verbose]
 */
import { parseArgs } from 'node:util';
import { ConfigError, loadDatabaseUrl } from '../config/config.ts';
import { diffMigrationsToSchema } from './schema-engine.ts';

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      'prisma-dir': { type: 'string' },
      verbose: { type: 'boolean', default: false },
    },
  });
  // Only the server is used: the check creates, and drops, a database of its own there.
  const databaseUrl = loadDatabaseUrl();
  const diff = await diffMigrationsToSchema({
    databaseUrl,
    ...(values['prisma-dir'] ? { prismaDir: values['prisma-dir'] } : {}),
    ...(values.verbose ? { log: (line: string) => process.stderr.write(`${line}\n`) } : {}),
  });
  if (!diff.drift) {
    process.stdout.write('drift: schema.prisma and prisma/migrations agree.\n');
    return 0;
  }
  process.stderr.write(
    'drift: schema.prisma and prisma/migrations disagree. Applying the migrations leaves the ' +
      'database short of this SQL; record it with `npm run migration:new -- <name>` (or undo ' +
      'the schema.prisma change):\n\n',
  );
  process.stdout.write(diff.sql.endsWith('\n') ? diff.sql : `${diff.sql}\n`);
  return 2;
}

try {
  process.exitCode = await main();
} catch (err) {
  process.stderr.write(`drift: ${err instanceof Error ? err.message : String(err)}\n`);
  if (err instanceof ConfigError) {
    process.stderr.write(
      'drift: set DATABASE_URL to a Postgres server where this role may CREATE DATABASE, e.g. ' +
        'DATABASE_URL=postgres://postgres:postgres@127.0.0.1:5432/postgres npm run drift\n',
    );
  }
  process.exitCode = 1;
}
