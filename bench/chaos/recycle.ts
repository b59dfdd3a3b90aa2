import { newEmailOf, newMobileOf, randInt } from './workload-sql.ts';
import { rowCount, type Tx, type WorkloadContext } from './workload-context.ts';

interface Row {
  id: string;
  mobile: string | null;
  email: string | null;
  attributes: unknown;
  groups: string[];
}

/** Contacts with their groups; the soak's deliberately bad records are left alone. */
async function readContacts(tx: Tx, ids: string[]): Promise<Row[]> {
  const res = await tx(
    `SELECT c.id, c.mobile, c.email, c.attributes,
            ARRAY(SELECT group_id FROM group_members gm WHERE gm.contact_id = c.id) AS groups
     FROM contacts c WHERE c.id = ANY($1)
       AND NOT EXISTS (SELECT 1 FROM chaos_bad_records b WHERE b.contact_id = c.id)
     FOR UPDATE`,
    [[...new Set(ids)]],
  );
  return res.rows as Row[];
}

async function insertCopies(ctx: WorkloadContext, tx: Tx, rows: Row[]): Promise<number> {
  const first = ctx.allocateContacts(rows.length);
  const ids = rows.map((_, i) => `c${first + i}`);
  await tx(
    `INSERT INTO contacts (id, mobile, email, attributes)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::jsonb[])`,
    [
      ids,
      rows.map((r) => r.mobile),
      rows.map((r) => r.email),
      rows.map((r) => JSON.stringify(r.attributes)),
    ],
  );
  const pairs = rows.flatMap((r, i) => r.groups.map((g): [string, string] => [g, ids[i] ?? '']));
  return ctx.insertMembers(tx, pairs);
}

/**
 * A CRM re-import: contacts deleted and created again under new ids with the same mobile, e-mail
 * and groups, in one transaction. No group ever holds two members with one main value, so each
 * new contact must end up remote (the old remote contact deleted, or taken over).
 */
export async function reimport(ctx: WorkloadContext, tx: Tx): Promise<number> {
  const rows = await readContacts(tx, ctx.someIds(randInt(3, 12), false));
  if (rows.length === 0) return 0;
  const deleted = await rowCount(
    tx('DELETE FROM contacts WHERE id = ANY($1)', [rows.map((r) => r.id)]),
  );
  return deleted + (await insertCopies(ctx, tx, rows));
}

/**
 * A number moved to another person: a contact takes fresh main values, and a new contact gets
 * its old ones (and its groups), in one transaction.
 */
export async function mainReuse(ctx: WorkloadContext, tx: Tx): Promise<number> {
  const rows = await readContacts(tx, ctx.someIds(randInt(2, 6), true));
  let changes = 0;
  for (const r of rows) {
    const n = ctx.nextMainNumber();
    changes += await rowCount(
      tx('UPDATE contacts SET mobile = $2, email = $3 WHERE id = $1', [
        r.id,
        newMobileOf(n),
        newEmailOf(n),
      ]),
    );
  }
  return changes + (await insertCopies(ctx, tx, rows));
}
