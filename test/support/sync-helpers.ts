import type { Harness } from './harness.ts';

/** True when nothing captured is waiting: outbox empty, no dirty mark, no dirty group. */
export async function drained(h: Harness): Promise<boolean> {
  const res = await h.db.query<{ n: string }>(
    `SELECT (SELECT count(*) FROM sync_outbox) + (SELECT count(*) FROM sync_dirty)
          + (SELECT count(*) FROM sync_group_state WHERE dirty) AS n`,
  );
  return Number(res.rows[0]?.n) === 0;
}

/** True when the outbox is empty and only held work remains. */
export async function settled(h: Harness): Promise<boolean> {
  const res = await h.db.query<{ n: string }>(
    `SELECT (SELECT count(*) FROM sync_outbox) + (SELECT count(*) FROM sync_dirty d
              WHERE NOT EXISTS (SELECT 1 FROM sync_holds x WHERE x.group_id = d.group_id AND x.approved_at IS NULL)) AS n`,
  );
  return Number(res.rows[0]?.n) === 0;
}
