/**
 * The SQL that compares a staged remote group (the temporary table `resync_remote`, see
 * stage-remote.ts: values over the compared fields only, empty ones left out) with the database.
 * The diff's statements name their parameters (@groupId, @main: the group's main field, @fields:
 * the fields compared) and `bindDiff` numbers them. Field names only ever travel as parameters;
 * the text varies only with how many there are and whether one is a column of `contacts`
 * (mobile, email) or an attribute.
 */

/** The values a diff statement may name. */
export interface DiffParams {
  groupId: string;
  main: string;
  fields: readonly string[];
}

/** Turns @name placeholders into $1…$n, numbered by first use, with their values in order. */
export function bindDiff(sql: string, params: DiffParams): { text: string; values: unknown[] } {
  const names: (keyof DiffParams)[] = [];
  const text = sql.replace(/@(groupId|main|fields)\b/g, (_, name: keyof DiffParams) => {
    if (!names.includes(name)) names.push(name);
    return `$${names.indexOf(name) + 1}`;
  });
  return { text, values: names.map((n) => params[n]) };
}

/** `(@fields::text[])[i]`: the i-th compared field. */
const field = (i: number) => `(@fields::text[])[${i + 1}]`;

/**
 * A member's values as the group should hold them (src/planner/project-fields.ts, in SQL):
 * mobile and email from their columns, other fields from `attributes->>field`, empty = absent.
 */
function localProjection(fields: readonly string[]): string {
  const pairs = fields.map((name, i) => {
    const source =
      name === 'mobile'
        ? 'c.mobile'
        : name === 'email'
          ? 'c.email'
          : `c.attributes ->> ${field(i)}`;
    return `${field(i)}, NULLIF(${source}, '')`;
  });
  return `jsonb_strip_nulls(jsonb_build_object(${pairs.join(', ')}))`;
}

/**
 * The statements that build `resync_diff`, a temporary table of what differs, one row per thing
 * to act on:
 * - `pair`: a member and the remote contact holding its main value, whose state or values differ;
 * - `missing`: a member no remote contact matches (→ add);
 * - `orphan`: a remote contact no member matches, or one without a main value (→ delete);
 * - `extra`: a second remote contact with a main value already kept (→ duplicate, delete);
 * - `stale`: a state row that names something remote but belongs to no matched member.
 * One member per main value is matched (the one with a remembered remote id, else remembered
 * values, else the lowest id), and one remote contact per main value is kept: the id the matched
 * member's state knows, else an id some state row knows, else the lowest — as the worker's own
 * look-up by main value takes the first.
 *
 * `resync_diff` outlives the plan's transaction (an apply corrects the sync state from it in
 * transactions of its own, see apply-corrections.ts): whoever builds it drops it (plan-group.ts).
 * The group goes through temporary tables that are ANALYZEd, because the planner's guesses about
 * CTEs and freshly staged rows led it to nested loops and external sorts over a million rows.
 * Duplicates are rare, so only their few rows are ever sorted; the rest is hash joins.
 */
export function diffStatements(fields: readonly string[]): string[] {
  return [
    // Every member with its values, and every state row, side by side.
    `
CREATE TEMP TABLE resync_ls ON COMMIT DROP AS
SELECT COALESCE(l.contact_id, s.contact_id) AS contact_id, l.contact_id IS NOT NULL AS is_member,
       l.fields, l.fields ->> @main AS main, s.main_value AS state_main,
       s.contact_id IS NOT NULL AS has_state, s.remote_id AS state_remote_id,
       s.synced_fields AS state_fields, COALESCE(s.uncertain, false) AS state_uncertain
FROM (SELECT gm.contact_id, ${localProjection(fields)} AS fields
      FROM group_members gm JOIN contacts c ON c.id = gm.contact_id
      WHERE gm.group_id = @groupId) l
FULL JOIN (SELECT * FROM sync_member_state WHERE group_id = @groupId) s ON s.contact_id = l.contact_id`,
    'ANALYZE resync_ls',
    'ANALYZE resync_remote',
    // Members sharing a main value, and which one of each set is matched.
    `
CREATE TEMP TABLE resync_local_dups ON COMMIT DROP AS
SELECT ls.contact_id, ls.main,
       row_number() OVER (PARTITION BY ls.main ORDER BY ls.state_remote_id IS NULL,
                          ls.state_fields IS NULL, ls.contact_id) = 1 AS keep
FROM resync_ls ls
JOIN (SELECT main FROM resync_ls WHERE is_member AND main IS NOT NULL
      GROUP BY main HAVING count(*) > 1) d ON d.main = ls.main
WHERE ls.is_member`,
    // Remote contacts sharing a main value, ranked: rank 1 is kept, the others are extras.
    `
CREATE TEMP TABLE resync_remote_dups ON COMMIT DROP AS
WITH d AS MATERIALIZED (
  SELECT r.idcontact, r.main FROM resync_remote r
  WHERE r.main IN (SELECT main FROM resync_remote WHERE main IS NOT NULL
                   GROUP BY main HAVING count(*) > 1)
), known AS (
  SELECT DISTINCT d.idcontact FROM d JOIN resync_ls ls ON ls.state_remote_id = d.idcontact
), matched AS (
  SELECT ls.main, ls.state_remote_id FROM resync_ls ls
  LEFT JOIN resync_local_dups ld ON ld.contact_id = ls.contact_id
  WHERE ls.is_member AND ls.main IN (SELECT main FROM d) AND (ld.contact_id IS NULL OR ld.keep)
)
SELECT d.idcontact, d.main, row_number() OVER w AS rank, first_value(d.idcontact) OVER w AS kept
FROM d
LEFT JOIN matched m ON m.main = d.main
LEFT JOIN known k ON k.idcontact = d.idcontact
WINDOW w AS (PARTITION BY d.main ORDER BY (d.idcontact = m.state_remote_id) IS NOT TRUE,
             k.idcontact IS NULL, length(d.idcontact), d.idcontact)`,
    'ANALYZE resync_local_dups, resync_remote_dups',
    `
CREATE TEMP TABLE resync_diff AS
WITH pairs AS (
  SELECT k.contact_id, r.idcontact AS remote_id, COALESCE(k.main, r.main) AS main,
         k.fields AS lfields, r.fields AS rfields, COALESCE(k.has_state, false) AS has_state,
         k.state_remote_id, k.state_fields, COALESCE(k.state_uncertain, false) AS state_uncertain
  FROM (SELECT ls.* FROM resync_ls ls
        LEFT JOIN resync_local_dups ld ON ld.contact_id = ls.contact_id
        WHERE ls.is_member AND ls.main IS NOT NULL AND (ld.contact_id IS NULL OR ld.keep)) k
  FULL JOIN (SELECT r.idcontact, r.main, r.fields FROM resync_remote r
             WHERE r.main IS NOT NULL
               AND NOT EXISTS (SELECT 1 FROM resync_remote_dups x
                               WHERE x.idcontact = r.idcontact AND x.rank > 1)) r
    ON r.main = k.main
)
SELECT CASE WHEN remote_id IS NULL THEN 'missing' WHEN contact_id IS NULL THEN 'orphan'
            ELSE 'pair' END AS role,
       contact_id, remote_id, main, lfields, rfields, has_state, state_remote_id, state_fields,
       state_uncertain, contact_id IS NOT NULL AS is_member, NULL::text AS kept
FROM pairs
WHERE remote_id IS NULL OR contact_id IS NULL OR NOT has_state OR state_uncertain
   OR state_remote_id IS DISTINCT FROM remote_id OR state_fields IS DISTINCT FROM rfields
   OR lfields IS DISTINCT FROM rfields
UNION ALL
SELECT 'extra', NULL, x.idcontact, x.main, NULL, r.fields, false, NULL, NULL, false, false, x.kept
FROM resync_remote_dups x JOIN resync_remote r ON r.idcontact = x.idcontact
WHERE x.rank > 1
UNION ALL
SELECT 'orphan', NULL, r.idcontact, NULL, NULL, r.fields, false, NULL, NULL, false, false, NULL
FROM resync_remote r WHERE r.main IS NULL
UNION ALL
SELECT 'stale', ls.contact_id, NULL, COALESCE(ls.main, ls.state_main), NULL, NULL, true,
       ls.state_remote_id, ls.state_fields, ls.state_uncertain, ls.is_member, NULL
FROM resync_ls ls
LEFT JOIN resync_local_dups ld ON ld.contact_id = ls.contact_id
WHERE (ls.state_remote_id IS NOT NULL OR ls.state_fields IS NOT NULL OR ls.state_uncertain)
  AND (NOT ls.is_member OR ls.main IS NULL OR NOT COALESCE(ld.keep, true))`,
  ];
}

/**
 * Names the state row through which each unmatched remote contact will be deleted: a non-member
 * row that already holds its id (a pending delete), else a synthetic `remote:<idcontact>`. A
 * reused row is no longer stale. No parameters.
 */
export const NAME_DELETE_ROWS_SQL = [
  `UPDATE resync_diff d SET contact_id = s.contact_id
   FROM (SELECT state_remote_id, min(contact_id) AS contact_id FROM resync_diff
         WHERE role = 'stale' AND NOT is_member AND state_remote_id IS NOT NULL
         GROUP BY state_remote_id) s
   WHERE d.role IN ('orphan', 'extra') AND d.remote_id = s.state_remote_id`,
  `DELETE FROM resync_diff st USING resync_diff d
   WHERE st.role = 'stale' AND d.role IN ('orphan', 'extra') AND st.contact_id = d.contact_id`,
  `UPDATE resync_diff SET contact_id = 'remote:' || remote_id
   WHERE role IN ('orphan', 'extra') AND contact_id IS NULL`,
];

/**
 * Under REMOTE_REMOVALS=respect, a member missing remotely that was synced before (its state
 * holds synced fields) was removed in Afilnet: it becomes an opt-out, not an add. A member
 * already opted out is one whatever the setting. $1 group id, $2 respect (boolean).
 */
export const OPT_OUT_ROLE_SQL = `
UPDATE resync_diff d SET role = 'opt_out'
WHERE d.role = 'missing'
  AND (($2::boolean AND d.state_fields IS NOT NULL)
       OR EXISTS (SELECT 1 FROM sync_opt_outs o WHERE o.group_id = $1 AND o.contact_id = d.contact_id))`;

/** Records the diff's opt-outs ($1 group id); the first detection is kept. */
export const RECORD_OPT_OUTS_SQL = `
INSERT INTO sync_opt_outs (group_id, contact_id, main_value, source)
SELECT $1, contact_id, main, 'resync' FROM resync_diff WHERE role = 'opt_out' ORDER BY contact_id
ON CONFLICT (group_id, contact_id) DO NOTHING`;

/**
 * The items of the diff ($1 run id, $2 group id). A pair can give two: adopt (its id was not
 * the one remembered) and modify (its values differ). Modify details name each differing field.
 */
export const INSERT_ITEMS_SQL = `
INSERT INTO sync_resync_items (run_id, group_id, kind, contact_id, remote_id, main_value, detail)
SELECT $1::bigint, $2, k.kind, d.contact_id, d.remote_id, d.main, k.detail
FROM resync_diff d
CROSS JOIN LATERAL (VALUES
  ('add', d.role = 'missing', NULL::jsonb),
  ('opt_out', d.role = 'opt_out', NULL::jsonb),
  ('delete', d.role = 'orphan', jsonb_build_object('fields', d.rfields)),
  ('duplicate', d.role = 'extra', jsonb_build_object('fields', d.rfields, 'kept', d.kept)),
  ('adopt', d.role = 'pair' AND d.state_remote_id IS DISTINCT FROM d.remote_id,
   jsonb_build_object('previous_remote_id', d.state_remote_id)),
  ('modify', d.role = 'pair' AND d.lfields IS DISTINCT FROM d.rfields,
   CASE WHEN d.role = 'pair' AND d.lfields IS DISTINCT FROM d.rfields THEN
     (SELECT jsonb_build_object('changes', jsonb_object_agg(f, jsonb_build_object(
               'local', d.lfields ->> f, 'remote', d.rfields ->> f)))
      FROM jsonb_object_keys(d.lfields || d.rfields) f
      WHERE d.lfields -> f IS DISTINCT FROM d.rfields -> f) END)
) AS k(kind, applies, detail)
WHERE k.applies
ORDER BY d.main, k.kind`;
