import type pg from 'pg';

/**
 * The changes a sync making one API call per change event would have made, by kind: a group
 * created, a membership inserted, a contact update times the groups it is in, a membership
 * removed (directly or by deleting the contact).
 */
export interface NaiveCalls {
  groups: number;
  memberships: number;
  updates: number;
  deletes: number;
}

export const GROUPS = [
  { id: 'demo-customers', name: 'Customers', type: 'mobile', fields: ['mobile', 'name', 'city'] },
  { id: 'demo-newsletter', name: 'Newsletter', type: 'email', fields: ['email', 'name'] },
  { id: 'demo-vip', name: 'VIP', type: 'mobile', fields: ['mobile', 'name'] },
] as const;

/**
 * Memberships that cannot be synced, on purpose. `bad-no-mobile` has no mobile: it fails in
 * Customers (a mobile group) and syncs in Newsletter (an email group). `bad-too-long` has a
 * 300-character name, over MAX_FIELD_LENGTH's default of 255: it fails in both its groups.
 */
export const EXPECTED_FAILURES = 3;

const ids = (n: number, where: string) =>
  `SELECT 'c' || i FROM generate_series(1, ${n}) i WHERE ${where}`;

async function inTransaction<T>(pool: pg.Pool, work: (c: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/**
 * Phase one, as a CRM import would do it: three groups, `contacts` contacts plus two bad ones,
 * and their memberships (everyone in Customers, every second contact in Newsletter, every tenth
 * in VIP), in one transaction.
 */
export async function loadDataset(pool: pg.Pool, contacts: number): Promise<NaiveCalls> {
  return inTransaction(pool, async (c) => {
    for (const g of GROUPS) {
      await c.query('INSERT INTO groups (id, name, type, fields) VALUES ($1, $2, $3, $4)', [
        g.id,
        g.name,
        g.type,
        g.fields,
      ]);
    }
    await c.query(
      `INSERT INTO contacts (id, mobile, email, attributes)
       SELECT 'c' || i, '3460' || lpad(i::text, 7, '0'), 'user' || i || '@example.com',
              jsonb_build_object('name', 'Customer ' || i,
                                 'city', (ARRAY['Madrid', 'Sevilla', 'Bilbao', 'Valencia'])[1 + i % 4])
       FROM generate_series(1, $1::int) i`,
      [contacts],
    );
    await c.query(
      `INSERT INTO contacts (id, mobile, email, attributes) VALUES
         ('bad-no-mobile', NULL, 'nomobile@example.com', '{"name": "No Mobile"}'),
         ('bad-too-long', '34699999999', 'toolong@example.com', jsonb_build_object('name', repeat('x', 300)))`,
    );
    const members = await c.query(
      `INSERT INTO group_members (group_id, contact_id)
       SELECT 'demo-customers', id FROM contacts
       UNION ALL SELECT 'demo-newsletter', 'c' || i FROM generate_series(2, $1::int, 2) i
       UNION ALL SELECT 'demo-newsletter', id FROM contacts WHERE id LIKE 'bad-%'
       UNION ALL SELECT 'demo-vip', 'c' || i FROM generate_series(10, $1::int, 10) i`,
      [contacts],
    );
    return { groups: GROUPS.length, memberships: members.rowCount ?? 0, updates: 0, deletes: 0 };
  });
}

/** Runs an UPDATE of contacts (a CTE returning ids) and counts the memberships it touched. */
async function updateCounting(c: pg.PoolClient, update: string): Promise<number> {
  const res = await c.query<{ n: number }>(
    `WITH u AS (${update} RETURNING id)
     SELECT count(*)::int AS n FROM group_members gm JOIN u ON gm.contact_id = u.id`,
  );
  return res.rows[0]?.n ?? 0;
}

/**
 * Phase two, day-to-day changes: renames of contacts in all three groups, city changes (a column
 * only Customers has), a CRM score no group syncs, memberships removed from Customers, and
 * contacts deleted. The selections are disjoint (distinct residues mod 20; the removals' mod 5
 * residue is unused by the others), so each change is counted once.
 */
export async function changeDataset(pool: pg.Pool, contacts: number): Promise<NaiveCalls> {
  return inTransaction(pool, async (c) => {
    const renamed = await updateCounting(
      c,
      `UPDATE contacts SET attributes = attributes || jsonb_build_object('name', 'Renamed ' || id)
       WHERE id IN (${ids(contacts, 'i % 20 = 10')})`,
    );
    const moved = await updateCounting(
      c,
      `UPDATE contacts SET attributes = attributes || '{"city": "Zaragoza"}'
       WHERE id IN (${ids(contacts, 'i % 20 = 2')})`,
    );
    const scored = await updateCounting(
      c,
      `UPDATE contacts SET attributes = attributes || jsonb_build_object('crm_score', length(id))
       WHERE id IN (${ids(contacts, 'i % 20 = 3')})`,
    );
    const removed = await c.query(
      `DELETE FROM group_members WHERE group_id = 'demo-customers'
       AND contact_id IN (${ids(contacts, 'i % 25 = 4')})`,
    );
    // The CTE's reader sees group_members as before the cascade, so it counts what goes.
    const deleted = await c.query<{ n: number }>(
      `WITH d AS (DELETE FROM contacts WHERE id IN (${ids(contacts, 'i % 100 = 5')}) RETURNING id)
       SELECT count(*)::int AS n FROM group_members gm JOIN d ON gm.contact_id = d.id`,
    );
    return {
      groups: 0,
      memberships: 0,
      updates: renamed + moved + scored,
      deletes: (removed.rowCount ?? 0) + (deleted.rows[0]?.n ?? 0),
    };
  });
}

/** Adds up two phases' naive counts. */
export function addNaive(a: NaiveCalls, b: NaiveCalls): NaiveCalls {
  return {
    groups: a.groups + b.groups,
    memberships: a.memberships + b.memberships,
    updates: a.updates + b.updates,
    deletes: a.deletes + b.deletes,
  };
}
