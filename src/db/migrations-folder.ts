import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project's `prisma/` folder, found from this file so any working directory will do. */
export const PRISMA_DIR = fileURLToPath(new URL('../../prisma/', import.meta.url));

/** Where `prisma/migrations` lives inside a prisma folder. */
export const migrationsDirOf = (prismaDir: string): string => join(prismaDir, 'migrations');

/** One `prisma/migrations/<timestamp>_<name>/migration.sql`, read once. */
export interface MigrationFile {
  /** The folder's name, e.g. `20261128170000_init`: what `_prisma_migrations` records. */
  name: string;
  /** The file as written; Prisma hashes these bytes, not a decoded string. */
  bytes: Buffer;
  sql: string;
  /** sha256 hex of the raw bytes, as Prisma's `checksum` column holds it. */
  checksum: string;
}

/** Prisma's checksum of a migration file: sha256 of its raw bytes, lowercase hex. */
export const checksumOf = (bytes: Buffer): string =>
  createHash('sha256').update(bytes).digest('hex');

/**
 * Every migration in `migrationsDir`, in name order (the timestamp prefix makes that the order
 * they were written). A folder without a `migration.sql` is an error, as it is for Prisma.
 */
export async function readMigrations(migrationsDir: string): Promise<MigrationFile[]> {
  const entries = await readdir(migrationsDir, { withFileTypes: true });
  const names = entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
  return Promise.all(
    names.map(async (name) => {
      const path = join(migrationsDir, name, 'migration.sql');
      const bytes = await readFile(path).catch((err: NodeJS.ErrnoException) => {
        throw new Error(
          err.code === 'ENOENT'
            ? `Migration folder ${name} has no migration.sql (${path})`
            : `Cannot read ${path}: ${err.message}`,
        );
      });
      return { name, bytes, sql: bytes.toString('utf8'), checksum: checksumOf(bytes) };
    }),
  );
}
