-- ------------------------------------------------------------------------------------------
-- Hand-written: a segment failing at run time in the relay's incremental evaluation skipped the
-- whole claimed batch for that group (one statement), so the group is now also made due for a
-- whole re-evaluation, which finds the contacts the failed statement left out.
-- ------------------------------------------------------------------------------------------

-- Re-evaluates every segment for the given (changed) contacts: one statement per segment, each
-- in its own subtransaction, so a filter failing at run time (a cast of a bad value) is recorded
-- on its group and the other segments go on. Returns how many memberships it added or removed;
-- their capture rows become dirty marks like any membership change.
CREATE OR REPLACE FUNCTION "sync_segment_apply_contacts"(ids text[]) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  g record;
  entered int;
  gone int;
  changed int := 0;
BEGIN
  IF ids IS NULL OR cardinality(ids) = 0 THEN RETURN 0; END IF;
  PERFORM set_config('afilnet_sync.segment_writer', 'on', true);
  FOR g IN SELECT id, segment FROM groups WHERE segment IS NOT NULL ORDER BY id LOOP
    BEGIN
      PERFORM sync_segment_lock(g.id);
      EXECUTE format($q$
        WITH matching AS MATERIALIZED (SELECT c.id FROM contacts c WHERE c.id = ANY($1) AND (%s)),
        ins AS (INSERT INTO group_members (group_id, contact_id) SELECT $2, id FROM matching ORDER BY id
                ON CONFLICT DO NOTHING RETURNING 1),
        del AS (DELETE FROM group_members gm WHERE gm.group_id = $2 AND gm.contact_id = ANY($1)
                AND NOT EXISTS (SELECT 1 FROM matching m WHERE m.id = gm.contact_id) RETURNING 1)
        SELECT (SELECT count(*) FROM ins)::int, (SELECT count(*) FROM del)::int$q$, g.segment)
      INTO entered, gone USING ids, g.id;
      changed := changed + entered + gone;
    EXCEPTION WHEN OTHERS THEN
      -- The batch's other contacts were not evaluated either: forgetting the expression makes the
      -- group due for a whole evaluation, retried every SEGMENT_REFRESH_MS until it succeeds.
      INSERT INTO sync_segment_state AS s (group_id, error, error_at) VALUES (g.id, SQLERRM, now())
      ON CONFLICT (group_id) DO UPDATE SET error = excluded.error, error_at = now(), expression = NULL;
    END;
  END LOOP;
  PERFORM set_config('afilnet_sync.segment_writer', 'off', true);
  RETURN changed;
END $$;
