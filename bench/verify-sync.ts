import type pg from 'pg';
import { snapshotMembers } from './lower-bound.ts';

interface RemoteGroup {
  idgroup: number;
  type: 'mobile' | 'email';
  contacts: { idcontact: number; fields: Record<string, string> }[];
}

/**
 * How many members differ between the database and the emulator after a run (0 = in step). A
 * call count means nothing if the sync skipped work, so every efficiency figure is checked by it.
 * Members the daemon recorded as failed (bad records) are expected to differ and are left out.
 */
export async function countMismatches(db: pg.Pool, emulatorUrl: string): Promise<number> {
  const local = await snapshotMembers(db);
  const failed = await db.query<{ k: string }>(
    `SELECT group_id || '/' || contact_id AS k FROM sync_member_state WHERE status = 'failed'`,
  );
  const skip = new Set(failed.rows.map((r) => r.k));
  const linked = await db.query<{ group_id: string; remote_id: string }>(
    'SELECT group_id, remote_id FROM sync_group_state WHERE remote_id IS NOT NULL',
  );
  const state = (await (await fetch(`${emulatorUrl}/__emulator/state`)).json()) as {
    groups: RemoteGroup[];
  };
  let mismatches = 0;
  for (const { group_id: groupId, remote_id: remoteId } of linked.rows) {
    const remote = state.groups.find((g) => String(g.idgroup) === remoteId);
    const members = local.get(groupId) ?? new Map<string, Record<string, string> | null>();
    if (!remote) {
      mismatches += members.size;
      continue;
    }
    const byMain = new Map(remote.contacts.map((c) => [c.fields[remote.type] ?? '', c.fields]));
    const expected = new Set<string>();
    for (const [contactId, fields] of members) {
      if (fields === null) continue;
      const main = fields[remote.type] ?? '';
      expected.add(main);
      if (skip.has(`${groupId}/${contactId}`)) continue;
      const there = byMain.get(main);
      const same =
        there !== undefined &&
        Object.keys({ ...fields, ...there }).every((f) => (fields[f] ?? '') === (there[f] ?? ''));
      if (!same) mismatches += 1;
    }
    for (const main of byMain.keys()) if (!expected.has(main)) mismatches += 1;
  }
  return mismatches;
}
