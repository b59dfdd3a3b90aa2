import type pg from 'pg';

/**
 * Moves up to `limit` captured changes from sync_outbox into dirty marks, in one transaction, and
 * returns the groups that now have work. Rows are claimed with SKIP LOCKED and deleted when read,
 * so a late-committing writer's rows are simply claimed on a later pass (nothing is skipped), and
 * several relays share the outbox without reading a row twice.
 */
export const CLAIM_OUTBOX_SQL = `
WITH taken AS (
  DELETE FROM sync_outbox
  WHERE id IN (SELECT id FROM sync_outbox ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)
  RETURNING kind, group_id, contact_id
), members AS (
  SELECT group_id, contact_id FROM taken WHERE kind = 'member'
  UNION
  SELECT gm.group_id, gm.contact_id
  FROM (SELECT DISTINCT contact_id FROM taken WHERE kind = 'contact') t
  JOIN group_members gm ON gm.contact_id = t.contact_id
), marked AS (
  INSERT INTO sync_dirty AS d (group_id, contact_id, seq)
  SELECT group_id, contact_id, nextval('sync_dirty_seq') FROM members ORDER BY group_id, contact_id
  ON CONFLICT (group_id, contact_id)
  DO UPDATE SET seq = excluded.seq, bulk = false, marked_at = now()
  RETURNING d.group_id
), touched_groups AS (
  INSERT INTO sync_group_state AS s (group_id, dirty, dirty_seq)
  SELECT group_id, true, nextval('sync_dirty_seq')
  FROM (SELECT DISTINCT group_id FROM taken WHERE kind = 'group') g ORDER BY group_id
  ON CONFLICT (group_id) DO UPDATE SET dirty = true, dirty_seq = excluded.dirty_seq, updated_at = now()
  RETURNING s.group_id
)
SELECT (SELECT count(*) FROM taken)::int AS claimed,
       ARRAY(SELECT group_id FROM marked UNION SELECT group_id FROM touched_groups) AS groups`;

export interface ClaimResult {
  claimed: number;
  groups: string[];
}

/** Runs one claim in its own transaction, retrying once on a deadlock with a concurrent relay. */
export async function claimOutbox(pool: pg.Pool, limit: number): Promise<ClaimResult> {
  for (let attempt = 0; ; attempt++) {
    const client = await pool.connect();
    // A checked-out client has no listener of the pool's: a connection lost mid-claim (a server
    // restart) would emit an unhandled 'error' and end the process. The failed query reports it.
    const ignore = (): void => undefined;
    client.on('error', ignore);
    let failure: Error | undefined;
    try {
      await client.query('BEGIN');
      const res = await client.query<{ claimed: number; groups: string[] }>(CLAIM_OUTBOX_SQL, [
        limit,
      ]);
      await client.query('COMMIT');
      const row = res.rows[0];
      return { claimed: row?.claimed ?? 0, groups: row?.groups ?? [] };
    } catch (err) {
      await client.query('ROLLBACK').catch((rollbackErr: unknown) => {
        // The connection is unusable: discard it rather than hand it to the next claim.
        failure = rollbackErr instanceof Error ? rollbackErr : new Error(String(rollbackErr));
      });
      if ((err as { code?: string }).code === '40P01' && attempt < 3) continue;
      throw err;
    } finally {
      client.off('error', ignore);
      client.release(failure);
    }
  }
}
