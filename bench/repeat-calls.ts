import type pg from 'pg';
import type { ProxiedCall } from './recording-proxy.ts';

/**
 * Which members got more than one modifycontact, by the kind of change the workload gave them:
 * says where calls beyond the lower bound went. A contact saved several times in a row can be
 * synced between two saves (a live sync cannot know a second save is coming), which the bound,
 * computed from the phase's end state, does not charge.
 */
export async function repeatedModifies(
  db: pg.Pool,
  calls: readonly ProxiedCall[],
  kindOf: ReadonlyMap<string, string>,
): Promise<Record<string, number>> {
  const perMember = new Map<string, number>();
  for (const call of calls) {
    if (call.method !== 'modifycontact') continue;
    const key = `${call.params.get('idgroup')}/${call.params.get('idcontact')}`;
    perMember.set(key, (perMember.get(key) ?? 0) + 1);
  }
  const res = await db.query<{ k: string; contact_id: string }>(
    `SELECT g.remote_id || '/' || s.remote_id AS k, s.contact_id
     FROM sync_member_state s JOIN sync_group_state g USING (group_id)
     WHERE s.remote_id IS NOT NULL`,
  );
  const contactOf = new Map(res.rows.map((r) => [r.k, r.contact_id]));
  const repeats: Record<string, number> = {};
  for (const [key, n] of perMember) {
    if (n < 2) continue;
    const contact = contactOf.get(key);
    const kind = (contact && kindOf.get(contact)) ?? 'other';
    repeats[kind] = (repeats[kind] ?? 0) + n - 1;
  }
  return repeats;
}
