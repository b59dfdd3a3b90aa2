import type pg from 'pg';
import type { CheckResult } from './check.ts';

const PER_KIND = 15;

interface Example {
  group?: string;
  contact?: string;
  main?: string;
  idcontact?: string;
}

/**
 * For each failing example, what Postgres knows about it: the member's sync state (lineage:
 * last method and result), its dirty mark, and every contact and state row sharing its main
 * value or remote id. Read after the daemons stopped, so it is the state they left.
 */
export async function gatherEvidence(pool: pg.Pool, check: CheckResult): Promise<unknown[]> {
  const out: unknown[] = [];
  for (const kind of ['lost', 'unexpected', 'stale', 'duplicated'] as const) {
    for (const raw of (check.examples[kind] ?? []).slice(0, PER_KIND)) {
      const ex = raw as Example;
      if (!ex.group || ex.group.startsWith('remote ')) continue;
      const states = await pool.query(
        `SELECT contact_id, remote_id, main_value, synced_fields, uncertain, status, last_method,
                last_result, last_error, last_call_at, updated_at
         FROM sync_member_state
         WHERE group_id = $1 AND (contact_id = $2 OR main_value = $3 OR remote_id = $4)`,
        [ex.group, ex.contact ?? null, ex.main ?? null, ex.idcontact ?? null],
      );
      const contacts = await pool.query(
        `SELECT c.id, c.mobile, c.email, c.attributes, c.updated_at,
                ARRAY(SELECT group_id FROM group_members gm WHERE gm.contact_id = c.id) AS groups,
                (SELECT kind FROM chaos_bad_records b WHERE b.contact_id = c.id) AS deliberately_bad
         FROM contacts c WHERE c.id = $1 OR c.mobile = $2 OR c.email = $2`,
        [ex.contact ?? null, ex.main ?? null],
      );
      const dirty = await pool.query(
        'SELECT contact_id, seq, bulk, marked_at FROM sync_dirty WHERE group_id = $1 AND contact_id = $2',
        [ex.group, ex.contact ?? null],
      );
      // Contacts that ever held the main value too (a remote contact nobody accounts for).
      const holders = await pool.query<{ contact_id: string }>(
        `SELECT DISTINCT contact_id FROM chaos_history
         WHERE detail->>'mobile' = $1 OR detail->>'email' = $1`,
        [ex.main ?? null],
      );
      const ids = [
        ...new Set([
          ...contacts.rows.map((c: { id: string }) => c.id),
          ...holders.rows.map((h) => h.contact_id),
        ]),
      ];
      const history = await pool.query(
        `SELECT to_char(at, 'HH24:MI:SS.MS') AS at, xid::text, op, group_id, contact_id, detail
         FROM chaos_history WHERE contact_id = ANY($1) AND (group_id IS NULL OR group_id = $2)
         ORDER BY id DESC LIMIT 40`,
        [ids, ex.group],
      );
      out.push({
        kind,
        example: ex,
        states: states.rows,
        contacts: contacts.rows,
        dirty: dirty.rows,
        // Newest first: what the writers committed for these contacts in this group.
        history: history.rows,
      });
    }
  }
  return out;
}
