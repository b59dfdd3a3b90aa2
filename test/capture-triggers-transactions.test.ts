import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outboxProbe, type OutboxProbe } from './support/capture-outbox.ts';
import { createTestDatabase } from './support/stores.ts';

let database: Awaited<ReturnType<typeof createTestDatabase>>;
let db: pg.Client;
let other: pg.Client;
let probe: OutboxProbe;
const groupWith = (g: string, members: string[]) => probe.groupWith(g, members);

beforeAll(async () => {
  database = await createTestDatabase();
  db = new pg.Client({ connectionString: database.url });
  other = new pg.Client({ connectionString: database.url });
  await db.connect();
  await other.connect();
  probe = outboxProbe(db);
});

afterAll(async () => {
  await db?.end();
  await other?.end();
  await database?.drop();
});

describe("the writer's transaction", () => {
  it('holds its identities invisibly until commit, and commits them with the write', async () => {
    await groupWith('t1', []);
    await db.query(`INSERT INTO contacts (id) VALUES ('t1-a')`);
    const before = await probe.lastId();
    await db.query('BEGIN');
    await db.query(`INSERT INTO group_members VALUES ('t1', 't1-a')`);
    expect(await probe.since(before)).toEqual([['member', 't1', 't1-a']]);
    expect(await probe.since(before, other)).toEqual([]);
    await db.query('COMMIT');
    expect(await probe.since(before, other)).toEqual([['member', 't1', 't1-a']]);
  });

  it('leaves nothing behind when rolled back, wholly or to a savepoint', async () => {
    await groupWith('t2', ['t2-a']);
    await db.query(`INSERT INTO contacts (id) VALUES ('t2-b'), ('t2-c')`);
    const before = await probe.lastId();
    await db.query('BEGIN');
    await db.query(`INSERT INTO group_members VALUES ('t2', 't2-b')`);
    await db.query(`UPDATE groups SET name = 'x' WHERE id = 't2'`);
    await db.query(`DELETE FROM contacts WHERE id = 't2-a'`);
    await db.query('ROLLBACK');
    expect(await probe.since(before)).toEqual([]);

    await db.query('BEGIN');
    await db.query(`INSERT INTO group_members VALUES ('t2', 't2-b')`);
    await db.query('SAVEPOINT s');
    await db.query(`INSERT INTO group_members VALUES ('t2', 't2-c')`);
    await db.query('ROLLBACK TO SAVEPOINT s');
    await db.query('COMMIT');
    expect(await probe.since(before)).toEqual([['member', 't2', 't2-b']]);
  });

  it('wakes listeners once the write commits, not before, and not for a rollback', async () => {
    await groupWith('t3', ['t3-a']);
    const heard: string[] = [];
    other.on('notification', (n) => heard.push(n.channel));
    await other.query('LISTEN afilnet_sync_outbox');
    const settle = () => other.query('SELECT 1');
    await db.query(`BEGIN; UPDATE groups SET name = 'y' WHERE id = 't3'; ROLLBACK`);
    await settle();
    expect(heard).toEqual([]);
    // A contact deletion reaches the outbox only through the cascade; it must still wake.
    await db.query(`DELETE FROM contacts WHERE id = 't3-a'`);
    await settle();
    expect(heard).toEqual(['afilnet_sync_outbox']);
    await other.query('UNLISTEN *');
  });
});

describe('TRUNCATE', () => {
  it.each(['groups', 'contacts', 'group_members'])(
    'is refused on %s with an error saying to use DELETE',
    async (table) => {
      await groupWith(`tr-${table}`, [`tr-${table}-a`]);
      const err = (await db.query(`TRUNCATE ${table} CASCADE`).catch((e: unknown) => e)) as {
        code?: string;
        message?: string;
      };
      expect(err.code).toBe('0A000');
      expect(err.message).toContain(`TRUNCATE of "${table}" is refused`);
      expect(err.message).toContain('Use DELETE');
      const left = await db.query(`SELECT 1 FROM ${table} LIMIT 1`);
      expect(left.rowCount).toBe(1);
    },
  );
});

describe('updated_at', () => {
  it.each(['groups', 'contacts'])(
    'is set to the transaction time by a visible UPDATE of %s, and left alone by a no-op',
    async (table) => {
      const id = `ua-${table}`;
      await (table === 'groups'
        ? db.query(
            `INSERT INTO groups (id, name, type, fields, updated_at) VALUES ($1, 'n', 'mobile', '{mobile}', '2001-01-01T00:00:00Z')`,
            [id],
          )
        : db.query(
            `INSERT INTO contacts (id, mobile, updated_at) VALUES ($1, '1', '2001-01-01T00:00:00Z')`,
            [id],
          ));
      const read = async () =>
        (await db.query<{ t: Date }>(`SELECT updated_at AS t FROM ${table} WHERE id = $1`, [id]))
          .rows[0]?.t;
      const column = table === 'groups' ? 'name' : 'mobile';
      await db.query(`UPDATE ${table} SET ${column} = ${column} WHERE id = $1`, [id]);
      expect(await read()).toEqual(new Date('2001-01-01T00:00:00Z'));
      await db.query('BEGIN');
      const now = (await db.query<{ now: Date }>('SELECT now()')).rows[0]?.now;
      await db.query(`UPDATE ${table} SET ${column} = '2' WHERE id = $1`, [id]);
      await db.query('COMMIT');
      expect(await read()).toEqual(now);
    },
  );
});
