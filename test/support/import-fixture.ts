import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import type { ImportSummary } from '../../src/operator/import/import-contacts.ts';
import { createTestDatabase, testPool } from './stores.ts';

export interface ImportFixture {
  db: pg.Pool;
  dir: string;
  /** Writes a file into the fixture's directory; returns its path. */
  fileOf(name: string, content: string | Buffer): Promise<string>;
  /** The rejects an import wrote, parsed. */
  reportOf(summary: ImportSummary): Promise<{ line: number; reason: string; raw: string }[]>;
  contact(id: string): Promise<{
    mobile: string | null;
    email: string | null;
    attributes: Record<string, unknown>;
  } | null>;
  outboxRows(): Promise<number>;
}

/**
 * A migrated database with a group `g`, and a scratch directory, for one test file (registers
 * its own beforeAll/afterAll). Fields are filled in before the file's tests run.
 */
export function useImportFixture(): ImportFixture {
  let drop: () => Promise<void> = () => Promise.resolve();
  const f = {
    async fileOf(name: string, content: string | Buffer) {
      const path = join(f.dir, name);
      await writeFile(path, content);
      return path;
    },
    async reportOf(summary: ImportSummary) {
      const text = await readFile(summary.reportPath, 'utf8');
      return text
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { line: number; reason: string; raw: string });
    },
    async contact(id: string) {
      const res = await f.db.query<{
        mobile: string | null;
        email: string | null;
        attributes: Record<string, unknown>;
      }>('SELECT mobile, email, attributes FROM contacts WHERE id = $1', [id]);
      return res.rows[0] ?? null;
    },
    async outboxRows() {
      const res = await f.db.query<{ n: string }>('SELECT count(*) AS n FROM sync_outbox');
      return Number(res.rows[0]?.n);
    },
  } as ImportFixture;
  beforeAll(async () => {
    const database = await createTestDatabase();
    drop = database.drop;
    f.db = testPool(database.url);
    f.dir = await mkdtemp(join(tmpdir(), 'afilnet-import-'));
    await f.db.query(
      `INSERT INTO groups (id, name, type, fields) VALUES ('g', 'Imported', 'mobile', '{mobile,name}')`,
    );
  });
  afterAll(async () => {
    await f.db?.end();
    await drop();
    if (f.dir) await rm(f.dir, { recursive: true, force: true });
  });
  return f;
}
