import type pg from 'pg';

/**
 * The triggers change capture depends on (see the init and capture_always migrations): the
 * statement-level capture triggers, the NOTIFY that wakes the relays, the TRUNCATE refusal, and
 * the segments migration's validation, capture and member-write refusal.
 */
export const CAPTURE_TRIGGERS = [
  ['groups', 'groups_capture_insert'],
  ['groups', 'groups_capture_update'],
  ['groups', 'groups_capture_delete'],
  ['groups', 'groups_notify'],
  ['groups', 'groups_no_truncate'],
  ['groups', 'groups_validate_segment'],
  ['groups', 'groups_capture_segment_insert'],
  ['groups', 'groups_capture_segment_update'],
  ['contacts', 'contacts_capture_update'],
  ['contacts', 'contacts_notify'],
  ['contacts', 'contacts_no_truncate'],
  ['contacts', 'contacts_capture_insert'],
  ['group_members', 'group_members_capture_insert'],
  ['group_members', 'group_members_capture_update'],
  ['group_members', 'group_members_capture_delete'],
  ['group_members', 'group_members_notify'],
  ['group_members', 'group_members_no_truncate'],
  ['group_members', 'group_members_segment_insert'],
  ['group_members', 'group_members_segment_update'],
  ['group_members', 'group_members_segment_delete'],
] as const;

// pg_trigger.tgenabled: O fires in origin (and local) sessions only, so not under
// session_replication_role = replica; R only under replica; A always; D never.
const PROBLEM: Record<string, string> = {
  D: 'is disabled: writes to the table are not synced',
  O: 'does not fire under session_replication_role = replica (ALTER TABLE … ENABLE ALWAYS TRIGGER)',
  R: 'fires only under session_replication_role = replica',
};

const STATE_SQL = `
SELECT t.table_name, t.trigger_name, tg.tgenabled::text AS enabled
FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS t(table_name, trigger_name, n)
LEFT JOIN pg_trigger tg
  ON tg.tgrelid = to_regclass(quote_ident(t.table_name)) AND tg.tgname = t.trigger_name
ORDER BY t.n`;

/**
 * One sentence per capture trigger that would not record a write (disabled, missing, or not
 * firing for replicated writes); empty when capture is whole. A daemon whose capture is off
 * looks healthy while silently syncing nothing, so this is logged at start, shown by `status`
 * and in /readyz's details.
 */
export async function captureTriggerProblems(db: Pick<pg.Pool, 'query'>): Promise<string[]> {
  const res = await db.query<{ table_name: string; trigger_name: string; enabled: string | null }>(
    STATE_SQL,
    [CAPTURE_TRIGGERS.map(([t]) => t), CAPTURE_TRIGGERS.map(([, n]) => n)],
  );
  return res.rows.flatMap((r) => {
    const name = `trigger ${r.trigger_name} on ${r.table_name}`;
    if (r.enabled === null) return [`${name} is missing: run \`npx afilnet-sync migrate\``];
    const problem = PROBLEM[r.enabled];
    return problem ? [`${name} ${problem}`] : [];
  });
}
