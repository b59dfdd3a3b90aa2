import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { createPrismaClient, type PrismaClient } from '../src/db/prisma.ts';
import { createTestDatabase, testPool } from './support/stores.ts';

describe('the Prisma model of the public contract', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let prisma: PrismaClient;
  let pool: pg.Pool;
  beforeAll(async () => {
    db = await createTestDatabase();
    prisma = createPrismaClient(db.url);
    pool = testPool(db.url);
  });
  afterAll(async () => {
    await prisma?.$disconnect();
    await pool?.end();
    await db?.drop();
  });

  it('writes groups, contacts and memberships that the capture triggers record', async () => {
    await prisma.group.create({
      data: { id: 'pg1', name: 'Via Prisma', type: 'mobile', fields: ['mobile', 'name'] },
    });
    await prisma.contact.create({
      data: { id: 'pc1', mobile: '34600000001', attributes: { name: 'Ana' } },
    });
    await prisma.groupMember.create({ data: { groupId: 'pg1', contactId: 'pc1' } });
    await prisma.contact.update({ where: { id: 'pc1' }, data: { attributes: { name: 'Eva' } } });
    const outbox = await pool.query<{
      kind: string;
      group_id: string | null;
      contact_id: string | null;
    }>('SELECT kind, group_id, contact_id FROM sync_outbox ORDER BY id');
    expect(outbox.rows).toEqual([
      { kind: 'group', group_id: 'pg1', contact_id: null },
      { kind: 'member', group_id: 'pg1', contact_id: 'pc1' },
      { kind: 'contact', group_id: null, contact_id: 'pc1' },
    ]);
  });

  it('reads the sync state through the same model', async () => {
    await pool.query(
      `INSERT INTO sync_member_state (group_id, contact_id, status, last_error) VALUES ('pg1', 'pc1', 'failed', 'MISSING_MAIN_FIELD: x')`,
    );
    const failed = await prisma.syncMemberState.findMany({ where: { status: 'failed' } });
    expect(failed.map((m) => [m.contactId, m.lastError])).toEqual([
      ['pc1', 'MISSING_MAIN_FIELD: x'],
    ]);
  });
});
