import type pg from 'pg';
import type { Main, MemberRow } from './check-model.ts';

export interface GroupRow {
  id: string;
  type: Main;
  fields: string[];
  afilnet_id: string | null;
  status: string | null;
  last_error: string | null;
}

export interface CheckInput {
  groups: GroupRow[];
  membersByGroup: Map<string, MemberRow[]>;
  /** Per group: remote ids and main values held by members recorded failed. */
  failedHeld: Map<string, Set<string>>;
  /** Contacts the soak made bad on purpose (chaos_bad_records). */
  deliberate: Set<string>;
}

/** Everything the checker reads from Postgres, in four queries. */
export async function readCheckInput(pool: pg.Pool): Promise<CheckInput> {
  const groups = await pool.query<GroupRow>(
    `SELECT g.id, g.type, g.fields, g.afilnet_id, s.status, s.last_error
     FROM groups g LEFT JOIN sync_group_state s ON s.group_id = g.id ORDER BY g.id`,
  );
  const members = await pool.query<MemberRow>(
    `SELECT gm.group_id, c.id AS contact_id, c.mobile, c.email, c.attributes, s.status,
            s.last_error, s.remote_id, s.last_method, s.last_result
     FROM group_members gm JOIN contacts c ON c.id = gm.contact_id
     LEFT JOIN sync_member_state s ON s.group_id = gm.group_id AND s.contact_id = gm.contact_id`,
  );
  const failed = await pool.query<{
    group_id: string;
    remote_id: string | null;
    main_value: string | null;
  }>(`SELECT group_id, remote_id, main_value FROM sync_member_state WHERE status = 'failed'`);
  const bad = await pool.query<{ contact_id: string }>('SELECT contact_id FROM chaos_bad_records');

  const membersByGroup = new Map<string, MemberRow[]>();
  for (const m of members.rows) {
    const list = membersByGroup.get(m.group_id);
    if (list) list.push(m);
    else membersByGroup.set(m.group_id, [m]);
  }
  const failedHeld = new Map<string, Set<string>>();
  for (const s of failed.rows) {
    const held = failedHeld.get(s.group_id) ?? new Set<string>();
    for (const v of [s.remote_id, s.main_value]) if (v !== null) held.add(v);
    failedHeld.set(s.group_id, held);
  }
  return {
    groups: groups.rows,
    membersByGroup,
    failedHeld,
    deliberate: new Set(bad.rows.map((b) => b.contact_id)),
  };
}

/** Groups values by a key, keeping insertion order. */
export function groupBy<T>(items: Iterable<T>, key: (item: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = out.get(k);
    if (list) list.push(item);
    else out.set(k, [item]);
  }
  return out;
}
