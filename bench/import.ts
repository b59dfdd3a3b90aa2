/**
 * Import benchmark (`npm run bench:import -- [--rows N] [--runs N]`): rows/s of `afilnet-sync
 * import` against a plain COPY of the same CSV into a bare table, measured side by side in one
 * throwaway database, and of a re-import where nothing changed. For scale it also times a COPY
 * of the finished rows straight into `contacts`: what any import pays to write a logged table
 * with its primary key, before reading or checking anything. Not a test: it prints figures and
 * writes them to bench/results/import-<timestamp>.json.
 *
 * Env: DATABASE_URL (a role that may CREATE DATABASE).
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { migrate } from '../src/db/migrate.ts';
import { withThrowawayDatabase } from '../src/db/throwaway-database.ts';
import { importContacts } from '../src/operator/import/import-contacts.ts';

const { values } = parseArgs({
  options: { rows: { type: 'string', default: '1000000' }, runs: { type: 'string', default: '1' } },
});
const ROWS = Number(values.rows);
const RUNS = Math.max(1, Number(values.runs));
const DATABASE_URL =
  process.env.DATABASE_URL ?? 'postgres://postgres:postgres@127.0.0.1:5432/postgres';

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
};

/** A CRM-like export: a quoted value with a comma on every row, a tenth without e-mail. */
async function writeCsv(path: string, rows: number): Promise<number> {
  const out = createWriteStream(path);
  out.write('id,mobile,email,name,city\n');
  let block = '';
  for (let i = 1; i <= rows; i++) {
    const email = i % 10 === 0 ? '' : `user${i}@example.com`;
    block += `crm-${i},346${String(i).padStart(8, '0')},${email},Name ${i},"Town ${i % 500}, Province"\n`;
    if (block.length > 1 << 20) {
      if (!out.write(block)) await once(out, 'drain');
      block = '';
    }
  }
  out.end(block);
  await once(out, 'finish');
  return (await stat(path)).size;
}

/** The same contacts as COPY text rows in `contacts`' own shape (id, mobile, email, attributes). */
async function writeContactRows(path: string, rows: number): Promise<void> {
  const out = createWriteStream(path);
  let block = '';
  for (let i = 1; i <= rows; i++) {
    const email = i % 10 === 0 ? '\\N' : `user${i}@example.com`;
    const attributes = JSON.stringify({ name: `Name ${i}`, city: `Town ${i % 500}, Province` });
    block += `crm-${i}\t346${String(i).padStart(8, '0')}\t${email}\t${attributes}\n`;
    if (block.length > 1 << 20) {
      if (!out.write(block)) await once(out, 'drain');
      block = '';
    }
  }
  out.end(block);
  await once(out, 'finish');
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return (performance.now() - t) / 1000;
}

/** An import's seconds in all, and spent reading + COPY (the rest is the upsert). */
async function timedImport(
  pool: pg.Pool,
  file: string,
): Promise<{ total: number; reading: number }> {
  const t = performance.now();
  let reading = 0;
  await importContacts(
    { pool },
    {
      file,
      onProgress: (p) => {
        if (p.phase === 'applying') reading = (performance.now() - t) / 1000;
      },
    },
  );
  return { total: (performance.now() - t) / 1000, reading };
}

async function plainCopy(pool: pg.Pool, file: string): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query(
      'DROP TABLE IF EXISTS bare; CREATE TABLE bare (id text, mobile text, email text, name text, city text)',
    );
    await pipeline(
      createReadStream(file, { highWaterMark: 1 << 20 }),
      client.query(copyFrom('COPY bare FROM STDIN (FORMAT csv, HEADER true)')),
    );
  } finally {
    client.release();
  }
}

async function copyIntoContacts(pool: pg.Pool, file: string): Promise<void> {
  const client = await pool.connect();
  try {
    await pipeline(
      createReadStream(file, { highWaterMark: 1 << 20 }),
      client.query(copyFrom('COPY contacts (id, mobile, email, attributes) FROM STDIN')),
    );
  } finally {
    client.release();
  }
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'afilnet-bench-import-'));
  const file = join(dir, 'contacts.csv');
  const rowsFile = join(dir, 'contacts.copy');
  try {
    process.stdout.write(`writing ${ROWS} rows… `);
    const bytes = await writeCsv(file, ROWS);
    await writeContactRows(rowsFile, ROWS);
    process.stdout.write(`${(bytes / 1e6).toFixed(1)} MB\n`);
    const figures = await withThrowawayDatabase(DATABASE_URL, async (url) => {
      await migrate(url);
      const pool = new pg.Pool({ connectionString: url, max: 2 });
      // The drop that ends withThrowawayDatabase may cut a connection still closing.
      pool.on('error', () => undefined);
      try {
        const copy: number[] = [];
        const first: number[] = [];
        const firstReading: number[] = [];
        const again: number[] = [];
        const againReading: number[] = [];
        const direct: number[] = [];
        for (let run = 0; run < RUNS; run++) {
          // Each import run starts from empty contacts; COPY right before it, on the same state.
          await pool.query('DELETE FROM contacts');
          await pool.query('VACUUM contacts');
          copy.push(await timed(() => plainCopy(pool, file)));
          const a = await timedImport(pool, file);
          const b = await timedImport(pool, file);
          first.push(a.total);
          firstReading.push(a.reading);
          again.push(b.total);
          againReading.push(b.reading);
          await pool.query('DELETE FROM contacts');
          await pool.query('VACUUM contacts');
          direct.push(await timed(() => copyIntoContacts(pool, rowsFile)));
          process.stdout.write(
            `run ${run + 1}: COPY ${copy.at(-1)?.toFixed(2)} s, import ${a.total.toFixed(2)} s ` +
              `(reading ${a.reading.toFixed(2)} s), re-import ${b.total.toFixed(2)} s ` +
              `(reading ${b.reading.toFixed(2)} s), COPY into contacts ${direct.at(-1)?.toFixed(2)} s\n`,
          );
        }
        const version =
          (await pool.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]
            ?.v ?? '?';
        return {
          copy: median(copy),
          first: median(first),
          firstReading: median(firstReading),
          again: median(again),
          againReading: median(againReading),
          direct: median(direct),
          version,
        };
      } finally {
        await pool.end();
      }
    });
    const rate = (s: number) => Math.round(ROWS / s);
    const result = {
      rows: ROWS,
      fileBytes: bytes,
      runs: RUNS,
      plainCopy: { seconds: figures.copy, rowsPerSecond: rate(figures.copy) },
      import: {
        seconds: figures.first,
        readingSeconds: figures.firstReading,
        rowsPerSecond: rate(figures.first),
      },
      reimportUnchanged: {
        seconds: figures.again,
        readingSeconds: figures.againReading,
        rowsPerSecond: rate(figures.again),
      },
      copyIntoContacts: { seconds: figures.direct, rowsPerSecond: rate(figures.direct) },
      importVsCopy: Math.round((figures.copy / figures.first) * 1000) / 1000,
      importVsCopyIntoContacts: Math.round((figures.direct / figures.first) * 1000) / 1000,
      environment: { node: process.version, postgres: figures.version, cpus: cpus().length },
      at: new Date().toISOString(),
    };
    process.stdout.write(
      `\nplain COPY into a bare table: ${result.plainCopy.rowsPerSecond} rows/s\n` +
        `import (new contacts):        ${result.import.rowsPerSecond} rows/s\n` +
        `re-import (nothing changed):  ${result.reimportUnchanged.rowsPerSecond} rows/s\n` +
        `COPY into contacts:           ${result.copyIntoContacts.rowsPerSecond} rows/s (no reading, no checks)\n` +
        `import / plain COPY:          ${result.importVsCopy} (1 = as fast as a bare COPY)\n` +
        `import / COPY into contacts:  ${result.importVsCopyIntoContacts}\n`,
    );
    const resultsDir = join(import.meta.dirname, 'results');
    await mkdir(resultsDir, { recursive: true });
    const out = join(resultsDir, `import-${result.at.replace(/[:.]/g, '-')}.json`);
    await writeFile(out, `${JSON.stringify(result, null, 2)}\n`);
    process.stdout.write(`written to ${out}\n`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
