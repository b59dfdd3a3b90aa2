import { emailOf, mobileOf, pick, randInt } from './workload-sql.ts';
import { recordBad, rowCount, type Tx, type WorkloadContext } from './workload-context.ts';

/**
 * A record the provider cannot take: it must be recorded failed and block nothing else. Each is
 * written to chaos_bad_records in the same transaction (both contacts, for a duplicate).
 */
export async function badRecord(ctx: WorkloadContext, tx: Tx): Promise<number> {
  const id = ctx.nextBadId();
  const group = pick(ctx.groups);
  const kind = pick(['no_main', 'too_long', 'duplicate', 'unencodable'] as const);
  if (kind === 'unencodable') {
    // Fine in an add (JSON), refused in a modify (field:value form): edits a live contact.
    const [target = 'c1'] = ctx.someIds(1, true);
    const set = JSON.stringify({ name: `Smith, John: ${id}` });
    const changed = await rowCount(
      tx('UPDATE contacts SET attributes = attributes || $2::jsonb WHERE id = $1', [target, set]),
    );
    await recordBad(tx, [target], kind);
    return changed;
  }
  if (kind === 'duplicate') {
    // Shares the main values of a current member of the group.
    const holder = await tx(
      `SELECT c.id, c.mobile, c.email FROM group_members gm JOIN contacts c ON c.id = gm.contact_id
       WHERE gm.group_id = $1 LIMIT 1 OFFSET $2`,
      [group.id, randInt(0, 50)],
    );
    const row = holder.rows[0] as
      { id: string; mobile: string | null; email: string | null } | undefined;
    if (!row) return 0;
    await tx(`INSERT INTO contacts (id, mobile, email, attributes) VALUES ($1, $2, $3, $4)`, [
      id,
      row.mobile,
      row.email,
      { name: `Duplicate ${id}` },
    ]);
    await recordBad(tx, [id, row.id], kind);
  } else {
    const n = 90_000_000 + Number(id.slice(3));
    const name = kind === 'too_long' ? 'x'.repeat(300) : `Bad ${id}`;
    const main = kind === 'no_main' ? [null, null] : [mobileOf(n), emailOf(n)];
    await tx(`INSERT INTO contacts (id, mobile, email, attributes) VALUES ($1, $2, $3, $4)`, [
      id,
      ...main,
      { name },
    ]);
    await recordBad(tx, [id], kind);
  }
  return ctx.insertMembers(tx, [[group.id, id]]);
}
