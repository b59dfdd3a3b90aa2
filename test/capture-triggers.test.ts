import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outboxProbe, type OutboxProbe } from './support/capture-outbox.ts';
import { createTestDatabase } from './support/stores.ts';

let database: Awaited<ReturnType<typeof createTestDatabase>>;
let db: pg.Client;
let probe: OutboxProbe;
const captured = (sql: string) => probe.captured(sql);
const groupWith = (g: string, members: string[]) => probe.groupWith(g, members);

beforeAll(async () => {
  database = await createTestDatabase();
  db = new pg.Client({ connectionString: database.url });
  await db.connect();
  probe = outboxProbe(db);
});

afterAll(async () => {
  await db?.end();
  await database?.drop();
});

describe('group_members writes', () => {
  it('records the member identity on INSERT and on DELETE', async () => {
    await groupWith('m1', ['m1-a']);
    await db.query(`INSERT INTO contacts (id, mobile) VALUES ('m1-b', '1')`);
    expect(await captured(`INSERT INTO group_members VALUES ('m1', 'm1-b')`)).toEqual([
      ['member', 'm1', 'm1-b'],
    ]);
    expect(await captured(`DELETE FROM group_members WHERE contact_id = 'm1-a'`)).toEqual([
      ['member', 'm1', 'm1-a'],
    ]);
  });

  it('records nothing for an INSERT … ON CONFLICT DO NOTHING that finds the membership there', async () => {
    await groupWith('m4', ['m4-a']);
    expect(
      await captured(`INSERT INTO group_members VALUES ('m4', 'm4-a') ON CONFLICT DO NOTHING`),
    ).toEqual([]);
  });

  it('records both the old and the new identity when a membership moves to another contact', async () => {
    await groupWith('m2', ['m2-a']);
    await db.query(`INSERT INTO contacts (id) VALUES ('m2-b')`);
    expect(
      await captured(`UPDATE group_members SET contact_id = 'm2-b' WHERE group_id = 'm2'`),
    ).toEqual([
      ['member', 'm2', 'm2-a'],
      ['member', 'm2', 'm2-b'],
    ]);
  });

  it('records nothing for an UPDATE that leaves the membership as it was', async () => {
    await groupWith('m3', ['m3-a']);
    expect(
      await captured(`UPDATE group_members SET contact_id = contact_id WHERE group_id = 'm3'`),
    ).toEqual([]);
  });
});

describe('contacts writes', () => {
  it('records nothing for a new contact: its memberships carry it', async () => {
    expect(await captured(`INSERT INTO contacts (id, mobile) VALUES ('c0', '600')`)).toEqual([]);
  });

  it('records the contact on a visible change to mobile, email or attributes', async () => {
    await groupWith('c1g', ['c1']);
    expect(await captured(`UPDATE contacts SET mobile = '601' WHERE id = 'c1'`)).toEqual([
      ['contact', null, 'c1'],
    ]);
    expect(await captured(`UPDATE contacts SET email = 'a@b.c' WHERE id = 'c1'`)).toEqual([
      ['contact', null, 'c1'],
    ]);
    expect(
      await captured(`UPDATE contacts SET attributes = '{"name": "Ana"}' WHERE id = 'c1'`),
    ).toEqual([['contact', null, 'c1']]);
  });

  it('records nothing for an UPDATE that changes nothing a remote group could hold', async () => {
    await groupWith('c2g', ['c2']);
    await db.query(`UPDATE contacts SET attributes = '{"a": 1, "b": 2}' WHERE id = 'c2'`);
    expect(await captured(`UPDATE contacts SET mobile = mobile WHERE id = 'c2'`)).toEqual([]);
    // jsonb does not keep key order: the same object written differently is no change.
    expect(
      await captured(`UPDATE contacts SET attributes = '{"b": 2, "a": 1}' WHERE id = 'c2'`),
    ).toEqual([]);
    expect(
      await captured(
        `UPDATE contacts SET created_at = '2001-01-01T00:00:00Z', updated_at = '2001-01-01T00:00:00Z' WHERE id = 'c2'`,
      ),
    ).toEqual([]);
  });

  it('records an upsert (INSERT … ON CONFLICT DO UPDATE) only when it changes the contact', async () => {
    await groupWith('c5g', ['c5']);
    const upsert = (mobile: string) =>
      captured(
        `INSERT INTO contacts (id, mobile) VALUES ('c5', '${mobile}')
         ON CONFLICT (id) DO UPDATE SET mobile = excluded.mobile`,
      );
    expect(await upsert('c5')).toEqual([]);
    expect(await upsert('699')).toEqual([['contact', null, 'c5']]);
  });

  it('records every membership of a deleted contact, through the cascade', async () => {
    await groupWith('c3g1', ['c3', 'c3-other']);
    await groupWith('c3g2', ['c3']);
    expect(await captured(`DELETE FROM contacts WHERE id = 'c3'`)).toEqual([
      ['member', 'c3g1', 'c3'],
      ['member', 'c3g2', 'c3'],
    ]);
  });

  it('records the old and the new membership identities when a contact id changes', async () => {
    await groupWith('c4g1', ['c4']);
    await groupWith('c4g2', ['c4']);
    expect(await captured(`UPDATE contacts SET id = 'c4-new' WHERE id = 'c4'`)).toEqual([
      ['contact', null, 'c4-new'],
      ['member', 'c4g1', 'c4'],
      ['member', 'c4g1', 'c4-new'],
      ['member', 'c4g2', 'c4'],
      ['member', 'c4g2', 'c4-new'],
    ]);
    const moved = await db.query(`SELECT group_id FROM group_members WHERE contact_id = 'c4-new'`);
    expect(moved.rowCount).toBe(2);
  });
});

describe('groups writes', () => {
  it('records a new group', async () => {
    expect(
      await captured(
        `INSERT INTO groups (id, name, type, fields) VALUES ('g0', 'G', 'email', '{email}')`,
      ),
    ).toEqual([['group', 'g0', null]]);
  });

  it('records the group on a visible change of any column a remote group depends on', async () => {
    await groupWith('g1', []);
    for (const set of [
      `name = 'Renamed'`,
      `type = 'email'`,
      `fields = '{email,name}'`,
      `country_iso3 = 'ESP'`,
      `afilnet_id = '777'`,
    ]) {
      expect(await captured(`UPDATE groups SET ${set} WHERE id = 'g1'`), set).toEqual([
        ['group', 'g1', null],
      ]);
    }
  });

  it('records nothing for an UPDATE that changes nothing visible', async () => {
    await groupWith('g2', ['g2-a']);
    expect(
      await captured(`UPDATE groups SET name = name, fields = fields WHERE id = 'g2'`),
    ).toEqual([]);
    expect(
      await captured(`UPDATE groups SET updated_at = '2001-01-01T00:00:00Z' WHERE id = 'g2'`),
    ).toEqual([]);
  });

  it('records the group and every membership when a group is deleted', async () => {
    await groupWith('g3', ['g3-a', 'g3-b']);
    expect(await captured(`DELETE FROM groups WHERE id = 'g3'`)).toEqual([
      ['group', 'g3', null],
      ['member', 'g3', 'g3-a'],
      ['member', 'g3', 'g3-b'],
    ]);
  });

  it('records both group ids and both membership identities when a group id changes', async () => {
    await groupWith('g4', ['g4-a']);
    expect(await captured(`UPDATE groups SET id = 'g4-new' WHERE id = 'g4'`)).toEqual([
      ['group', 'g4', null],
      ['group', 'g4-new', null],
      ['member', 'g4', 'g4-a'],
      ['member', 'g4-new', 'g4-a'],
    ]);
  });
});
