import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { assertMigrated, migrate, migrationStatus } from '../src/db/migrate.ts';
import { createTestDatabase } from './support/stores.ts';

// The migration runner against real Postgres: it must keep Prisma's bookkeeping exactly, so that
// `prisma migrate deploy/status` on a connected machine agree with what it did here.

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const MIGRATIONS_DIR = join(ROOT, 'prisma', 'migrations');
const drops: (() => Promise<void>)[] = [];
const tempDirs: string[] = [];

afterAll(async () => {
  for (const drop of drops) await drop();
  for (const dir of tempDirs) await rm(dir, { recursive: true, force: true });
});

async function emptyDatabase(): Promise<string> {
  const db = await createTestDatabase({ migrate: false });
  drops.push(db.drop);
  return db.url;
}

async function query<R extends pg.QueryResultRow>(
  url: string,
  sql: string,
  values: unknown[] = [],
): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<R>(sql, values)).rows;
  } finally {
    await client.end();
  }
}

const projectMigrations = async (): Promise<string[]> =>
  (await readdir(MIGRATIONS_DIR, { withFileTypes: true }))
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();

/** A copy of the project's migrations, plus `extra` folders: name → migration.sql text. */
async function migrationsCopy(extra: Record<string, string> = {}): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'afilnet-migrations-'));
  tempDirs.push(dir);
  await cp(MIGRATIONS_DIR, dir, { recursive: true });
  for (const [name, sql] of Object.entries(extra)) {
    await mkdir(join(dir, name));
    await writeFile(join(dir, name, 'migration.sql'), sql);
  }
  return dir;
}

interface HistoryRow {
  id: string;
  checksum: string;
  migration_name: string;
  finished_at: Date | null;
  rolled_back_at: Date | null;
  logs: string | null;
  applied_steps_count: number;
}
const history = (url: string): Promise<HistoryRow[]> =>
  query<HistoryRow>(url, 'SELECT * FROM "_prisma_migrations" ORDER BY started_at, migration_name');

describe('migrate on a fresh database', () => {
  it('creates the tables, the trigger functions and one _prisma_migrations row per migration', async () => {
    const url = await emptyDatabase();
    const names = await projectMigrations();

    const { applied } = await migrate(url);

    expect(applied).toEqual(names);
    const tables = await query<{ table_name: string }>(
      url,
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'`,
    );
    expect(tables.map((t) => t.table_name)).toEqual(
      expect.arrayContaining(['groups', 'contacts', 'group_members', 'sync_outbox', 'sync_dirty']),
    );
    // The $$ bodies arrived whole: the capture trigger's function exists and fires.
    await query(url, `INSERT INTO groups (name, type, fields) VALUES ('g', 'email', '{email}')`);
    const outbox = await query<{ kind: string }>(url, 'SELECT kind FROM sync_outbox');
    expect(outbox).toEqual([{ kind: 'group' }]);
    expect((await history(url)).map((r) => r.migration_name)).toEqual(names);
  });

  it('records each migration as Prisma does: sha256 of the file bytes, finished, one step', async () => {
    const url = await emptyDatabase();
    await migrate(url);
    const rows = await history(url);

    expect(rows).toHaveLength((await projectMigrations()).length);
    for (const row of rows) {
      const bytes = await readFile(join(MIGRATIONS_DIR, row.migration_name, 'migration.sql'));
      expect(row.checksum).toBe(createHash('sha256').update(bytes).digest('hex'));
      expect(row.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(row.finished_at).toBeInstanceOf(Date);
      expect(row.rolled_back_at).toBeNull();
      expect(row.logs).toBeNull();
      expect(row.applied_steps_count).toBe(1);
    }
  });

  it("creates _prisma_migrations with Prisma's column types", async () => {
    const url = await emptyDatabase();
    await migrate(url);

    const columns = await query<Record<string, unknown>>(
      url,
      `SELECT column_name, data_type, character_maximum_length, is_nullable, column_default
         FROM information_schema.columns WHERE table_name = '_prisma_migrations'
        ORDER BY ordinal_position`,
    );
    // name, type, length, nullable, default
    expect(columns.map((c) => Object.values(c))).toEqual([
      ['id', 'character varying', 36, 'NO', null],
      ['checksum', 'character varying', 64, 'NO', null],
      ['finished_at', 'timestamp with time zone', null, 'YES', null],
      ['migration_name', 'character varying', 255, 'NO', null],
      ['logs', 'text', null, 'YES', null],
      ['rolled_back_at', 'timestamp with time zone', null, 'YES', null],
      ['started_at', 'timestamp with time zone', null, 'NO', 'now()'],
      ['applied_steps_count', 'integer', null, 'NO', '0'],
    ]);
  });
});

describe('migrate on a migrated database', () => {
  it('applies nothing the second time and records nothing new', async () => {
    const url = await emptyDatabase();
    await migrate(url);
    const before = await history(url);

    const { applied } = await migrate(url);

    expect(applied).toEqual([]);
    expect(await history(url)).toEqual(before);
  });

  it('lets exactly one of three concurrent runs apply each migration, without errors', async () => {
    const url = await emptyDatabase();
    const names = await projectMigrations();

    const runs = await Promise.all([migrate(url), migrate(url), migrate(url)]);

    expect(runs.flatMap((r) => r.applied).sort()).toEqual(names);
    expect(runs.filter((r) => r.applied.length > 0)).toHaveLength(1);
    expect((await history(url)).map((r) => r.migration_name)).toEqual(names);
  });

  it('refuses to go on when an applied migration.sql was edited afterwards', async () => {
    const url = await emptyDatabase();
    const dir = await migrationsCopy();
    await migrate(url, { migrationsDir: dir });
    const [first] = await projectMigrations();
    await writeFile(join(dir, first!, 'migration.sql'), '-- edited\n', { flag: 'a' });

    await expect(migrate(url, { migrationsDir: dir })).rejects.toThrow(
      new RegExp(`${first}.*changed after being applied`),
    );
  });
});

describe('when a migration fails', () => {
  const broken = '29991231000000_broken';
  const brokenSql = 'CREATE TABLE "half_done" (id int);\nSELECT "nope" FROM "half_done";\n';

  it('records the failure with its log, keeps none of its statements, and blocks later runs', async () => {
    const url = await emptyDatabase();
    const dir = await migrationsCopy({ [broken]: brokenSql });

    await expect(migrate(url, { migrationsDir: dir })).rejects.toThrow(
      /29991231000000_broken failed[\s\S]*column "nope" does not exist/,
    );

    const row = (await history(url)).find((r) => r.migration_name === broken);
    expect(row).toMatchObject({ finished_at: null, rolled_back_at: null });
    expect(row?.logs).toMatch(
      /42703[\s\S]*column "nope" does not exist[\s\S]*line 2 of 29991231000000_broken/,
    );
    const halfDone = await query(url, `SELECT to_regclass('half_done')::text AS t`);
    expect(halfDone).toEqual([{ t: null }]);
    expect(await migrationStatus(url, { migrationsDir: dir })).toEqual({
      pending: [],
      failed: [broken],
    });

    // Even with the file fixed, nothing runs until the failure is resolved.
    await writeFile(join(dir, broken, 'migration.sql'), 'CREATE TABLE "half_done" (id int);\n');
    await expect(migrate(url, { migrationsDir: dir })).rejects.toThrow(
      /29991231000000_broken failed earlier[\s\S]*rolled_back_at = now\(\)/,
    );
    expect((await history(url)).filter((r) => r.migration_name === broken)).toHaveLength(1);
  });

  it('applies the fixed migration once the failure is marked rolled back', async () => {
    const url = await emptyDatabase();
    const dir = await migrationsCopy({ [broken]: brokenSql });
    await migrate(url, { migrationsDir: dir }).catch(() => undefined);
    await writeFile(join(dir, broken, 'migration.sql'), 'CREATE TABLE "half_done" (id int);\n');
    await query(
      url,
      `UPDATE "_prisma_migrations" SET rolled_back_at = now()
        WHERE migration_name = $1 AND finished_at IS NULL`,
      [broken],
    );

    expect(await migrate(url, { migrationsDir: dir })).toEqual({ applied: [broken] });
    expect(await query(url, `SELECT to_regclass('half_done')::text AS t`)).toEqual([
      { t: 'half_done' },
    ]);
  });
});

describe('assertMigrated, the daemon start gate', () => {
  it('throws on an unmigrated database, naming `npx afilnet-sync migrate`', async () => {
    const url = await emptyDatabase();

    await expect(assertMigrated(url)).rejects.toThrow(
      /not migrated[\s\S]*npx afilnet-sync migrate/,
    );
    expect(await migrationStatus(url)).toEqual({ pending: await projectMigrations(), failed: [] });
  });

  it('throws when a migration is pending on a migrated database', async () => {
    const url = await emptyDatabase();
    await migrate(url);
    const dir = await migrationsCopy({ '29991231000000_next': 'SELECT 1;\n' });

    await expect(assertMigrated(url, { migrationsDir: dir })).rejects.toThrow(
      /not migrated \(pending: 29991231000000_next\)/,
    );
  });

  it('passes once migrate has run', async () => {
    const url = await emptyDatabase();
    await migrate(url);

    await expect(assertMigrated(url)).resolves.toBeUndefined();
  });
});

/** Runs the real `afilnet-sync` executable with only the variables given added to the env. */
function cli(
  args: string[],
  env: Record<string, string | undefined>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'afilnet-sync.mjs'), ...args], {
      // Not the project folder: the migrations must be found from the code, not the cwd.
      cwd: tmpdir(),
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

describe('npx afilnet-sync migrate', () => {
  it('applies the migrations from any working directory and exits 0, then reports up to date', async () => {
    const url = await emptyDatabase();
    const names = await projectMigrations();

    const first = await cli(['migrate'], { DATABASE_URL: url });
    expect(first).toMatchObject({ code: 0 });
    for (const name of names) expect(first.stdout).toContain(name);
    expect(await migrationStatus(url)).toEqual({ pending: [], failed: [] });

    const second = await cli(['migrate'], { DATABASE_URL: url });
    expect(second).toMatchObject({ code: 0 });
    expect(second.stdout).toMatch(/up to date/);
  });

  it('prints {"applied": [...]} with --json', async () => {
    const url = await emptyDatabase();

    const first = await cli(['migrate', '--json'], { DATABASE_URL: url });
    const second = await cli(['migrate', '--json'], { DATABASE_URL: url });

    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout)).toEqual({ applied: await projectMigrations() });
    expect(JSON.parse(second.stdout)).toEqual({ applied: [] });
  });

  it('exits non-zero with a clear message, and no password, when the database is unreachable', async () => {
    const result = await cli(['migrate'], {
      DATABASE_URL: 'postgres://postgres:s3cret-pw@127.0.0.1:1/nowhere',
    });

    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/Cannot connect to the database at 127\.0\.0\.1:1\/nowhere/);
    expect(result.stderr).toMatch(/ECONNREFUSED/);
    expect(result.stderr + result.stdout).not.toContain('s3cret-pw');
  });

  it('exits non-zero naming DATABASE_URL when it is not set', async () => {
    const result = await cli(['migrate'], { DATABASE_URL: '' });

    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/DATABASE_URL: missing/);
  });
});
