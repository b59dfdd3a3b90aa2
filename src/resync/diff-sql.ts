/**
 * The SQL that compares a staged remote group with the database. Parameters of the diff: $1 run
 * id, $2 group id, $3 the group's main field, $4 the fields compared (text[]). Field names only
 * ever travel as parameters; the text below varies only with how many there are and whether one
 * is a column of `contacts` (mobile, email) or an attribute.
 */

/** `($4::text[])[i]`: the i-th compared field. */
const field = (i: number) => `($4::text[])[${i + 1}]`;

/**
 * A member's values as the group should hold them (src/planner/project-fields.ts, in SQL):
 * mobile and email from their columns, other fields from `attributes->>field`, empty = absent.
 */
function localProjection(fields: readonly string[]): string {
  const pairs = fields.map((name, i) => {
    const source =
      name === 'mobile' ? 'c.mobile' : name === 'email' ? 'c.email' : `c.attributes ->> ${field(i)}`;
    return `${field(i)}, NULLIF(${source}, '')`;
  });
  return `jsonb_strip_nulls(jsonb_build_object(${pairs.join(', ')}))`;
}

/** A staged remote contact's values over the same fields, empty = absent. */
function remoteProjection(fields: readonly string[]): string {
  const pairs = fields.map((_, i) => `${field(i)}, NULLIF(r.fields ->> ${field(i)}, '')`);
  return `jsonb_strip_nulls(jsonb_build_object(${pairs.join(', ')}))`;
}

/**
 * Builds `resync_diff`, a temporary table of what differs, one row per thing to act on:
 * - `pair`: a member and the remote contact holding its main value, whose state or values differ;
 * - `missing`: a member no remote contact matches (→ add);
 * - `orphan`: a remote contact no member matches, or one without a main value (→ delete);
 * - `extra`: a second remote contact with a main value already kept (→ duplicate, delete);
 * - `stale`: a state row that names something remote but belongs to no matched member.
 * One member per main value is matched (the one with a remembered remote id, else with remembered
 * values, else the lowest id), and one
 * remote contact per main value is kept: the id the member's state knows, else any id some state
 * row knows, else the lowest id — as the worker's own look-up by main value takes the first.
 */
export function diffTableSql(fields: readonly string[]): string {
  return `
CREATE TEMP TABLE resync_diff ON COMMIT DROP AS
WITH loc AS MATERIALIZED (
  SELECT gm.contact_id, ${localProjection(fields)} AS fields
  FROM group_members gm JOIN contacts c ON c.id = gm.contact_id
  WHERE gm.group_id = $2
), st AS MATERIALIZED (
  SELECT contact_id, remote_id, synced_fields, uncertain FROM sync_member_state WHERE group_id = $2
), keepers AS MATERIALIZED (
  SELECT DISTINCT ON (l.fields ->> $3) l.contact_id, l.fields, l.fields ->> $3 AS main,
         s.contact_id IS NOT NULL AS has_state, s.remote_id AS state_remote_id,
         s.synced_fields AS state_fields, COALESCE(s.uncertain, false) AS state_uncertain
  FROM loc l LEFT JOIN st s ON s.contact_id = l.contact_id
  WHERE l.fields ? $3
  ORDER BY l.fields ->> $3, s.remote_id IS NULL, s.synced_fields IS NULL, l.contact_id
), known AS (
  SELECT DISTINCT remote_id FROM st WHERE remote_id IS NOT NULL
), rem AS MATERIALIZED (
  SELECT r.idcontact, r.main, ${remoteProjection(fields)} AS fields,
         row_number() OVER w AS rank, first_value(r.idcontact) OVER w AS kept
  FROM sync_resync_remote r
  LEFT JOIN keepers k ON k.main = r.main
  LEFT JOIN known kn ON kn.remote_id = r.idcontact
  WHERE r.run_id = $1 AND r.group_id = $2
  WINDOW w AS (PARTITION BY r.main ORDER BY (r.idcontact = k.state_remote_id) IS NOT TRUE,
               kn.remote_id IS NULL, length(r.idcontact), r.idcontact)
), pairs AS (
  SELECT k.contact_id, r.idcontact AS remote_id, COALESCE(k.main, r.main) AS main,
         k.fields AS lfields, r.fields AS rfields, COALESCE(k.has_state, false) AS has_state,
         k.state_remote_id, k.state_fields, COALESCE(k.state_uncertain, false) AS state_uncertain
  FROM keepers k
  FULL JOIN (SELECT * FROM rem WHERE rank = 1 AND main IS NOT NULL) r ON r.main = k.main
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
SELECT CASE WHEN main IS NULL THEN 'orphan' ELSE 'extra' END, NULL, idcontact, main, NULL,
       fields, false, NULL, NULL, false, false, CASE WHEN main IS NOT NULL THEN kept END
FROM rem WHERE rank > 1 OR main IS NULL
UNION ALL
SELECT 'stale', s.contact_id, NULL, s.main_value, NULL, NULL, true, s.remote_id,
       s.synced_fields, s.uncertain, l.contact_id IS NOT NULL, NULL
FROM sync_member_state s
LEFT JOIN loc l ON l.contact_id = s.contact_id
LEFT JOIN keepers k ON k.contact_id = s.contact_id
WHERE s.group_id = $2 AND (s.remote_id IS NOT NULL OR s.synced_fields IS NOT NULL OR s.uncertain)
  AND k.contact_id IS NULL`;
}

/**
 * Names the state row through which each unmatched remote contact will be deleted: a non-member
 * row that already holds its id (a pending delete), else a synthetic `remote:<idcontact>`. A
 * reused row is no longer stale. $1 is unused here; statements take only what they need.
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
 * The items of the diff ($1 run id, $2 group id). A pair can give two: adopt (its id was not
 * the one remembered) and modify (its values differ). Modify details name each differing field.
 */
export const INSERT_ITEMS_SQL = `
INSERT INTO sync_resync_items (run_id, group_id, kind, contact_id, remote_id, main_value, detail)
SELECT $1::bigint, $2, k.kind, d.contact_id, d.remote_id, d.main, k.detail
FROM resync_diff d
CROSS JOIN LATERAL (VALUES
  ('add', d.role = 'missing', NULL::jsonb),
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
