/**
 * `npm run migration:new -- <name>`: writes prisma/migrations/<UTC timestamp>_<name>/migration.sql
 * holding the SQL that takes the existing migrations to schema.prisma — what `prisma migrate dev
 * --create-only` writes where Prisma's engine binary runs. Applies nothing.
 *
 * Usage: tsx src/db/new-migration.ts <name> [--allow-empty] [--prisma-dir <folder>]
 *   --allow-empty  write the migration even when schema.prisma has no change (for hand-written
 *                  SQL only: triggers, functions, checks)
 */
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { loadDatabaseUrl } from '../config/config.ts';
import { migrationsDirOf, PRISMA_DIR } from './migrations-folder.ts';
import { diffMigrationsToSchema } from './schema-engine.ts';

const migrationName = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9_]{0,80}$/,
    'use lowercase letters, digits and underscores, e.g. add_contact_nickname',
  );

/** `20261128170000` for 2026-11-28T17:00:00Z: Prisma's migration folder prefix. */
const utcTimestamp = (now: Date): string => now.toISOString().replace(/\D/g, '').slice(0, 14);

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      'prisma-dir': { type: 'string' },
      'allow-empty': { type: 'boolean', default: false },
    },
  });
  const parsedName = migrationName.safeParse(positionals[0] ?? '');
  if (positionals.length !== 1 || !parsedName.success) {
    const why = parsedName.error?.issues[0]?.message ?? 'give exactly one name';
    process.stderr.write(`migration:new: a migration name is needed (${why}).\n`);
    process.stderr.write('usage: npm run migration:new -- <name> [--allow-empty]\n');
    return 1;
  }
  const prismaDir = values['prisma-dir'] ?? PRISMA_DIR;
  const migrationsDir = migrationsDirOf(prismaDir);
  const folder = `${utcTimestamp(new Date())}_${parsedName.data}`;
  const latest = (await readdir(migrationsDir, { withFileTypes: true }))
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort()
    .at(-1);
  if (latest !== undefined && folder <= latest) {
    process.stderr.write(
      `migration:new: ${folder} would not sort after the latest migration ${latest} ` +
        '(is the clock behind, or did two runs share a second?). Nothing written.\n',
    );
    return 1;
  }

  const diff = await diffMigrationsToSchema({ databaseUrl: loadDatabaseUrl(), prismaDir });
  if (!diff.drift && !values['allow-empty']) {
    process.stdout.write(
      'migration:new: schema.prisma has no change the migrations lack; nothing written. ' +
        'For a migration of hand-written SQL only, pass --allow-empty.\n',
    );
    return 0;
  }
  const path = join(migrationsDir, folder, 'migration.sql');
  await mkdir(join(migrationsDir, folder));
  await writeFile(path, diff.sql.endsWith('\n') ? diff.sql : `${diff.sql}\n`);
  process.stdout.write(
    `migration:new: wrote ${relative(process.cwd(), path)}\n` +
      'Review it, append any hand-written SQL (triggers, functions, checks) below the generated ' +
      'part, then apply it with `npx afilnet-sync migrate`.\n',
  );
  return 0;
}

try {
  process.exitCode = await main();
} catch (err) {
  process.stderr.write(`migration:new: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
}
