import { describe, expect, it } from 'vitest';
import { IMPORT_CHUNK_ROWS } from '../src/operator/import/apply-in-chunks.ts';
import { importContacts } from '../src/operator/import/import-contacts.ts';
import { useImportFixture } from './support/import-fixture.ts';

const fx = useImportFixture();

const csvOf = (prefix: string, n: number, name = 'Name') =>
  'id,mobile,name\n' +
  Array.from(
    { length: n },
    (_, i) => `${prefix}-${i},3465${String(i).padStart(7, '0')},${name} ${i}`,
  ).join('\n') +
  '\n';

/** Rows of `table` matching `where`, grouped by the transaction that wrote them. */
async function rowsPerTransaction(table: string, where: string): Promise<number[]> {
  const res = await fx.db.query<{ n: string }>(
    `SELECT count(*) AS n FROM ${table} WHERE ${where} GROUP BY xmin ORDER BY min(xmin::text)`,
  );
  return res.rows.map((r) => Number(r.n));
}

describe('an import applied in bounded transactions', () => {
  it('applies at most IMPORT_CHUNK_ROWS rows per transaction by default', () => {
    expect(IMPORT_CHUNK_ROWS).toBe(10_000);
  });

  it('writes contacts and memberships in transactions of at most chunkRows rows', async () => {
    const file = await fx.fileOf('chunks.csv', csvOf('ch', 2_500));
    const summary = await importContacts({ pool: fx.db }, { file, groupId: 'g', chunkRows: 1_000 });
    expect(summary).toMatchObject({ read: 2_500, inserted: 2_500, membersAdded: 2_500 });
    const contacts = await rowsPerTransaction('contacts', `id LIKE 'ch-%'`);
    expect(contacts.length).toBeGreaterThanOrEqual(3);
    expect(Math.max(...contacts)).toBeLessThanOrEqual(1_000);
    expect(contacts.reduce((a, b) => a + b, 0)).toBe(2_500);
    const members = await rowsPerTransaction('group_members', `contact_id LIKE 'ch-%'`);
    expect(Math.max(...members)).toBeLessThanOrEqual(1_000);
  });

  it('lets the last row of an id win when its rows fall in different chunks', async () => {
    const csv = `id,mobile,name\ndup-1,34650000001,First\n${csvOf('dup-x', 30).split('\n').slice(1).join('\n')}dup-1,34650000001,Last\n`;
    const summary = await importContacts(
      { pool: fx.db },
      { file: await fx.fileOf('dup.csv', csv), chunkRows: 10 },
    );
    expect(summary).toMatchObject({ read: 32, duplicates: 1, inserted: 31 });
    expect((await fx.contact('dup-1'))?.attributes).toEqual({ name: 'Last' });
  });

  it('keeps the chunks applied before a crash, and converges when run again', async () => {
    const file = await fx.fileOf('crash.csv', csvOf('cr', 3_000));
    // A failure in the middle of the file, as a lost connection or a killed process would be.
    await fx.db.query(`
      CREATE FUNCTION fail_once() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'simulated crash at %', NEW.id; END $$;
      CREATE TRIGGER fail_once BEFORE INSERT ON contacts FOR EACH ROW
        WHEN (NEW.id = 'cr-1500') EXECUTE FUNCTION fail_once();`);
    try {
      await expect(
        importContacts({ pool: fx.db }, { file, groupId: 'g', chunkRows: 1_000 }),
      ).rejects.toThrow(/simulated crash at cr-1500/);
    } finally {
      await fx.db.query('DROP TRIGGER fail_once ON contacts; DROP FUNCTION fail_once()');
    }
    const count = async () =>
      Number(
        (
          await fx.db.query<{ n: string }>(
            `SELECT count(*) AS n FROM contacts WHERE id LIKE 'cr-%'`,
          )
        ).rows[0]?.n,
      );
    // The chunks before the failing one are committed; the failing one left nothing.
    const kept = await count();
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(3_000);
    const again = await importContacts({ pool: fx.db }, { file, groupId: 'g', chunkRows: 1_000 });
    expect(again).toMatchObject({ read: 3_000, inserted: 3_000 - kept, updated: 0 });
    expect(await count()).toBe(3_000);
    const third = await importContacts({ pool: fx.db }, { file, groupId: 'g', chunkRows: 1_000 });
    expect(third).toMatchObject({ imported: 0, unchanged: 3_000, membersAdded: 0 });
  });
});
