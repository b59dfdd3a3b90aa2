import { spawn } from 'node:child_process';
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { migrate } from '../src/db/migrate.ts';
import { diffMigrationsToSchema } from '../src/db/schema-engine.ts';
import { createTestDatabase } from './support/stores.ts';

// `npm run drift` (in `npm run check` and CI) and `npm run migration:new`: both replay
// prisma/migrations into a throwaway database with Prisma's wasm schema engine and diff the
// result against schema.prisma. These run the real scripts on temp copies of the prisma folder.

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const databaseUrl = inject('databaseUrl');
const tempDirs: string[] = [];
const drops: (() => Promise<void>)[] = [];

afterAll(async () => {
  for (const drop of drops) await drop();
  for (const dir of tempDirs) await rm(dir, { recursive: true, force: true });
});

/** A temp copy of prisma/, with schema.prisma's Contact model gaining a `nickname` field. */
async function prismaCopy(opts: { addNickname?: boolean } = {}): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'afilnet-prisma-'));
  tempDirs.push(dir);
  await cp(join(ROOT, 'prisma'), dir, { recursive: true });
  if (opts.addNickname) {
    const path = join(dir, 'schema.prisma');
    const schema = await readFile(path, 'utf8');
    const edited = schema.replace(/(model Contact \{\n)/, '$1  nickname String?\n');
    expect(edited).not.toBe(schema);
    await writeFile(path, edited);
  }
  return dir;
}

/** Runs one of src/db's scripts as `npm run` does (through tsx), from the project folder. */
function script(
  file: string,
  args: string[],
  env: Record<string, string | undefined> = { DATABASE_URL: databaseUrl },
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join('src', 'db', file), ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const migrationFolders = async (prismaDir: string): Promise<string[]> =>
  (await readdir(join(prismaDir, 'migrations'), { withFileTypes: true }))
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();

describe('npm run drift', () => {
  it("exits 0 on the project's own prisma folder", async () => {
    const result = await script('check-drift.ts', []);

    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/agree/);
  });

  it('exits non-zero printing the missing SQL when schema.prisma gains a field', async () => {
    const dir = await prismaCopy({ addNickname: true });

    const result = await script('check-drift.ts', ['--prisma-dir', dir]);

    expect(result.code).toBe(2);
    expect(result.stdout).toMatch(/ALTER TABLE "contacts" ADD COLUMN\s+"nickname" TEXT;/);
    expect(result.stderr).toMatch(/disagree/);
  });

  it('says what to set when DATABASE_URL is missing', async () => {
    const result = await script('check-drift.ts', [], { DATABASE_URL: '' });

    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/DATABASE_URL: missing/);
    expect(result.stderr).toMatch(/CREATE DATABASE/);
  });
});

describe('the migrations-to-schema diff', () => {
  it('sees a change in the generated part of a migration too (a dropped index)', async () => {
    const dir = await prismaCopy();
    const [first] = await migrationFolders(dir);
    const path = join(dir, 'migrations', first!, 'migration.sql');
    const sql = await readFile(path, 'utf8');
    const index = 'CREATE INDEX "sync_member_state_status_idx" ON "sync_member_state"("status");';
    expect(sql).toContain(index);
    await writeFile(path, sql.replace(index, ''));

    const diff = await diffMigrationsToSchema({ databaseUrl, prismaDir: dir });

    expect(diff.drift).toBe(true);
    expect(diff.sql).toContain(index);
  });

  it('drops its throwaway database afterwards', async () => {
    const lines: string[] = [];

    const diff = await diffMigrationsToSchema({ databaseUrl, log: (l) => lines.push(l) });

    expect(diff.drift).toBe(false);
    const name = /created throwaway database (\S+)/.exec(lines.join('\n'))?.[1];
    expect(name).toBeDefined();
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    const left = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    await client.end();
    expect(left.rows).toEqual([]);
  });
});

describe('npm run migration:new', () => {
  it('writes the next migration, which the drift check then accepts and migrate applies', async () => {
    const dir = await prismaCopy({ addNickname: true });
    const before = await migrationFolders(dir);

    const result = await script('new-migration.ts', ['add_contact_nickname', '--prisma-dir', dir]);

    expect(result.code).toBe(0);
    const added = (await migrationFolders(dir)).filter((f) => !before.includes(f));
    expect(added).toHaveLength(1);
    expect(added[0]).toMatch(/^\d{14}_add_contact_nickname$/);
    expect(added[0]! > before.at(-1)!).toBe(true);
    const sql = await readFile(join(dir, 'migrations', added[0]!, 'migration.sql'), 'utf8');
    expect(sql).toMatch(/ALTER TABLE "contacts" ADD COLUMN\s+"nickname" TEXT;/);

    expect(await diffMigrationsToSchema({ databaseUrl, prismaDir: dir })).toMatchObject({
      drift: false,
    });
    const db = await createTestDatabase({ migrate: false });
    drops.push(db.drop);
    const { applied } = await migrate(db.url, { migrationsDir: join(dir, 'migrations') });
    expect(applied).toEqual([...before, added[0]]);
  });

  it('writes nothing when schema.prisma has no change, unless --allow-empty', async () => {
    const dir = await prismaCopy();
    const before = await migrationFolders(dir);

    const nothing = await script('new-migration.ts', ['no_change', '--prisma-dir', dir]);
    expect(nothing.code).toBe(0);
    expect(nothing.stdout).toMatch(/nothing written/);
    expect(await migrationFolders(dir)).toEqual(before);

    const empty = await script('new-migration.ts', [
      'triggers',
      '--allow-empty',
      '--prisma-dir',
      dir,
    ]);
    expect(empty.code).toBe(0);
    const added = (await migrationFolders(dir)).filter((f) => !before.includes(f));
    expect(added).toEqual([expect.stringMatching(/^\d{14}_triggers$/)]);
  });

  it('refuses a name that is not lowercase_with_underscores', async () => {
    const dir = await prismaCopy({ addNickname: true });
    const before = await migrationFolders(dir);

    const result = await script('new-migration.ts', ['Add Nickname!', '--prisma-dir', dir]);

    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/lowercase letters, digits and underscores/);
    expect(await migrationFolders(dir)).toEqual(before);
  });
});
