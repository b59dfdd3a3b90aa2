import type pg from 'pg';
import { markCapturedChanges } from '../state/dirty-marks.ts';
import { applySegmentsToContacts } from '../state/segment-membership.ts';

/**
 * Takes up to `limit` captured changes out of sync_outbox: claimed with SKIP LOCKED and deleted
 * when read, so a late-committing writer's rows are simply claimed on a later pass (nothing is
 * skipped), and several relays share the outbox without reading a row twice. What they name comes
 * back as arrays, for the state module to turn into dirty marks in the same transaction.
 */
export const CLAIM_OUTBOX_SQL = `
WITH taken AS (
  DELETE FROM sync_outbox
  WHERE id IN (SELECT id FROM sync_outbox ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)
  RETURNING kind, group_id, contact_id
)
SELECT (SELECT count(*) FROM taken)::int AS claimed,
       ARRAY(SELECT group_id FROM taken WHERE kind = 'member') AS member_groups,
       ARRAY(SELECT contact_id FROM taken WHERE kind = 'member') AS member_contacts,
       ARRAY(SELECT DISTINCT contact_id FROM taken WHERE kind = 'contact') AS contacts,
       ARRAY(SELECT DISTINCT group_id FROM taken WHERE kind = 'group') AS groups,
       ARRAY(SELECT DISTINCT group_id FROM taken WHERE kind = 'segment') AS segments`;

export interface ClaimResult {
  claimed: number;
  groups: string[];
  /** Groups whose segment was set or edited: to be evaluated whole (outside the claim). */
  segmentGroups: string[];
  /**
   * Memberships the segments' re-evaluation added or removed. Their capture rows were written
   * in this transaction, so the caller claims again at once rather than waiting for a NOTIFY.
   */
  segmentChanges: number;
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
      const res = await client.query<{
        claimed: number;
        member_groups: string[];
        member_contacts: string[];
        contacts: string[];
        groups: string[];
        segments: string[];
      }>(CLAIM_OUTBOX_SQL, [limit]);
      const row = res.rows[0];
      // Changed contacts are re-evaluated against every segment in the claim's own transaction:
      // a contact entering a segment reaches Afilnet in the same relay round as its update.
      const segmentChanges =
        row && row.contacts.length > 0 ? await applySegmentsToContacts(client, row.contacts) : 0;
      const groups =
        row && row.claimed > 0
          ? await markCapturedChanges(client, {
              members: { groupIds: row.member_groups, contactIds: row.member_contacts },
              contactIds: row.contacts,
              groupIds: row.groups,
            })
          : [];
      await client.query('COMMIT');
      return {
        claimed: row?.claimed ?? 0,
        groups,
        segmentGroups: row?.segments ?? [],
        segmentChanges,
      };
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
