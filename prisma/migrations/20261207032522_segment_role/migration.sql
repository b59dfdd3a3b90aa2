-- ------------------------------------------------------------------------------------------
-- Hand-written: segment filters run as the least-privileged role afilnet_segment, not with the
-- daemon's privileges. The write-time check sees only the filter's own query tree; a CRM's
-- stable function or view that reads sync_ tables, or a volatile function such a function calls,
-- is stopped only by the privileges the filter runs with.
-- ------------------------------------------------------------------------------------------

-- Returns the ids of the contacts the filter matches (of `ids` only, unless it is null). This is
-- the one place an operator's filter runs. SECURITY DEFINER and owned by afilnet_segment (see
-- sync_segment_confine), so the filter and every function and view it uses run with that role's
-- privileges: SELECT on contacts and what an operator granted it. Not SET ROLE: Postgres checks
-- SET ROLE against the session user, so a CRM function could switch back to the daemon's role;
-- inside a security-definer function Postgres refuses SET ROLE altogether. The transaction is
-- made read-only around the filter and restored by rolling back the block (a read-only
-- transaction cannot be set read-write again; plpgsql variables survive the rollback), so not
-- even a volatile function a stable one calls can write, where the role was granted it or not.
CREATE FUNCTION "sync_segment_match"(expr text, ids text[]) RETURNS text[]
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  matched text[];
BEGIN
  BEGIN
    PERFORM set_config('transaction_read_only', 'on', true);
    IF ids IS NULL THEN
      EXECUTE format('SELECT array_agg(c.id) FROM contacts c WHERE (%s)', expr) INTO matched;
    ELSE
      EXECUTE format('SELECT array_agg(c.id) FROM contacts c WHERE c.id = ANY($1) AND (%s)', expr)
      INTO matched USING ids;
    END IF;
    RAISE SQLSTATE 'SGRO0';
  EXCEPTION WHEN SQLSTATE 'SGRO0' THEN
    NULL;  -- the block's rollback ends the read-only setting; matched is kept
  END;
  RETURN COALESCE(matched, '{}');
END $$;

-- Whether filters run as afilnet_segment (sync_segment_match is a security-definer function it
-- owns). False after a migration by a user that may not create or grant roles: filters then run
-- with the daemon's privileges, as before this migration (the daemon warns, status says so).
CREATE FUNCTION "sync_segment_confined"() RETURNS boolean LANGUAGE sql STABLE AS $$
  SELECT EXISTS (SELECT 1 FROM pg_proc p JOIN pg_roles r ON r.oid = p.proowner
                 WHERE p.oid = 'public.sync_segment_match(text, text[])'::regprocedure
                   AND p.prosecdef AND r.rolname = 'afilnet_segment')
$$;

-- Creates afilnet_segment if needed (NOLOGIN: only sync_segment_match runs as it), lets it read
-- contacts, and gives it sync_segment_match. Returns null when done, or why it could not be (the
-- function is then left running as its caller). Roles are cluster-wide and databases migrate in
-- parallel (a test run): a role or a membership created concurrently is taken as created. Run by
-- the migration; to confine filters later, a superuser runs `SELECT sync_segment_confine();` in
-- the database (see README, Segments).
CREATE FUNCTION "sync_segment_confine"() RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'afilnet_segment') THEN
    BEGIN
      CREATE ROLE afilnet_segment NOLOGIN;
    EXCEPTION
      WHEN duplicate_object OR unique_violation THEN NULL;
      WHEN insufficient_privilege THEN
        ALTER FUNCTION sync_segment_match(text, text[]) SECURITY INVOKER;
        RETURN format('%s may not create the role afilnet_segment (no CREATEROLE)', current_user);
    END;
  END IF;
  BEGIN
    GRANT USAGE ON SCHEMA public TO afilnet_segment;
    GRANT SELECT ON contacts TO afilnet_segment;
    IF NOT pg_has_role(current_user, 'afilnet_segment', 'MEMBER') THEN  -- a superuser is
      BEGIN
        GRANT afilnet_segment TO CURRENT_USER;
      EXCEPTION WHEN unique_violation THEN NULL;
      END;
    END IF;
    -- A non-superuser may give a function to a role only while that role may create in the
    -- function's schema: for this statement only.
    GRANT CREATE ON SCHEMA public TO afilnet_segment;
    ALTER FUNCTION sync_segment_match(text, text[]) OWNER TO afilnet_segment;
    REVOKE CREATE ON SCHEMA public FROM afilnet_segment;
    ALTER FUNCTION sync_segment_match(text, text[]) SECURITY DEFINER;
  EXCEPTION WHEN insufficient_privilege THEN
    ALTER FUNCTION sync_segment_match(text, text[]) SECURITY INVOKER;
    RETURN format('%s may not give sync_segment_match to the role afilnet_segment: %s', current_user, SQLERRM);
  END;
  RETURN NULL;
END $$;

DO $$
DECLARE
  why text := sync_segment_confine();
BEGIN
  IF why IS NOT NULL THEN
    RAISE NOTICE 'segment filters will run unconfined, with afilnet-sync''s privileges: %. To confine them, a superuser runs in this database: SELECT sync_segment_confine();', why;
  END IF;
END $$;

-- As before (20261207012121_segments), plus what the role cannot stop: a view runs with its
-- owner's privileges, so a view that reads sync_ tables (afilnet_opt_outs, or a CRM's view of
-- one) is refused even when granted to the role, through any depth of views; and a
-- security-definer function runs as its owner. When filters are confined, a table or view the
-- role may not read is refused here with the grant that allows it, rather than failing later.
CREATE OR REPLACE FUNCTION "sync_segment_check"(expr text, OUT problem text, OUT time_dependent boolean)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  tree text;
  confined boolean := sync_segment_confined();
BEGIN
  problem := sync_segment_shape_problem(expr);
  time_dependent := false;
  IF problem IS NOT NULL THEN RETURN; END IF;
  IF to_regclass('pg_temp.sync_segment_probe') IS NOT NULL THEN DROP VIEW pg_temp.sync_segment_probe; END IF;
  EXECUTE format('CREATE TEMP VIEW sync_segment_probe AS SELECT c.id FROM public.contacts c WHERE (%s)', expr);
  SELECT r.ev_action::text INTO tree FROM pg_rewrite r
  WHERE r.ev_class = 'pg_temp.sync_segment_probe'::regclass;
  DROP VIEW pg_temp.sync_segment_probe;
  WITH RECURSIVE fn_ids AS (
    SELECT m[1]::oid AS id FROM regexp_matches(tree, ':(?:funcid|opfuncid|aggfnoid|winfnoid) (\d+)', 'g') m
    UNION
    SELECT o.oprcode::oid FROM regexp_matches(tree, ':opno (\d+)', 'g') m JOIN pg_operator o ON o.oid = m[1]::oid),
  fns AS (SELECT p.oid::regprocedure::text AS name, p.provolatile, p.prosecdef
          FROM fn_ids JOIN pg_proc p ON p.oid = fn_ids.id),
  rels AS (
    SELECT c.oid, c.relname FROM regexp_matches(tree, ':relid (\d+)', 'g') m
    JOIN pg_class c ON c.oid = m[1]::oid),
  -- (named, read): every relation each named one reads, through views of views.
  reads(named, rel) AS (
    SELECT DISTINCT oid, oid FROM rels
    UNION
    SELECT reads.named, m[1]::oid FROM reads
    JOIN pg_rewrite r ON r.ev_class = reads.rel AND r.rulename = '_RETURN'
    CROSS JOIN LATERAL regexp_matches(r.ev_action::text, ':relid (\d+)', 'g') m),
  private AS (
    SELECT n.relname AS named, c.relname AS name FROM reads
    JOIN pg_class n ON n.oid = reads.named JOIN pg_class c ON c.oid = reads.rel
    WHERE c.relname LIKE 'sync\_%' OR c.relname LIKE '\_prisma%')
  SELECT COALESCE(
           (SELECT 'the segment may not call the volatile function ' || name || ' (segments are read-only and repeatable)'
            FROM fns WHERE provolatile = 'v' ORDER BY name LIMIT 1),
           (SELECT 'the segment may not call the security-definer function ' || name || ' (it would run with its owner''s privileges)'
            FROM fns WHERE prosecdef ORDER BY name LIMIT 1),
           (SELECT 'the segment may not read ' || named || CASE WHEN named = name THEN '' ELSE ', which reads ' || name END
                   || ' (afilnet-sync''s own tables are private)'
            FROM private ORDER BY named = name DESC, named, name LIMIT 1),
           (SELECT format('the segment reads %s, which afilnet_segment may not read (GRANT SELECT ON %s TO afilnet_segment)',
                          oid::regclass, oid::regclass)
            FROM rels WHERE CASE WHEN confined THEN NOT has_any_column_privilege('afilnet_segment', oid, 'SELECT') ELSE false END
            ORDER BY relname LIMIT 1)),
         EXISTS (SELECT 1 FROM fns WHERE provolatile = 's')
           OR EXISTS (SELECT 1 FROM rels WHERE relname NOT IN ('contacts', 'sync_segment_probe'))
           -- contacts read again in a subquery: other contacts' changes can change the result.
           OR (SELECT count(*) FROM rels WHERE relname = 'contacts') > 1
    INTO problem, time_dependent;
END $$;

-- As in 20261207015002_segment_retry, with the filter run by sync_segment_match and only its
-- result spliced into the statement that writes the members (as a parameter, so each plan knows
-- how many contacts matched).
CREATE OR REPLACE FUNCTION "sync_segment_apply_contacts"(ids text[]) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  g record;
  matched text[];
  entered int;
  gone int;
  changed int := 0;
BEGIN
  IF ids IS NULL OR cardinality(ids) = 0 THEN RETURN 0; END IF;
  PERFORM set_config('afilnet_sync.segment_writer', 'on', true);
  FOR g IN SELECT id, segment FROM groups WHERE segment IS NOT NULL ORDER BY id LOOP
    BEGIN
      PERFORM sync_segment_lock(g.id);
      matched := sync_segment_match(g.segment, ids);
      EXECUTE $q$
        WITH matching AS MATERIALIZED (SELECT unnest($3::text[]) AS id),
        ins AS (INSERT INTO group_members (group_id, contact_id) SELECT $2, id FROM matching ORDER BY id
                ON CONFLICT DO NOTHING RETURNING 1),
        del AS (DELETE FROM group_members gm WHERE gm.group_id = $2 AND gm.contact_id = ANY($1)
                AND NOT EXISTS (SELECT 1 FROM matching m WHERE m.id = gm.contact_id) RETURNING 1)
        SELECT (SELECT count(*) FROM ins)::int, (SELECT count(*) FROM del)::int$q$
      INTO entered, gone USING ids, g.id, matched;
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

-- As in 20261207012121_segments, with the filter run by sync_segment_match.
CREATE OR REPLACE FUNCTION "sync_segment_evaluate"(gid text, OUT size int, OUT entered int, OUT gone int)
LANGUAGE plpgsql AS $$
DECLARE
  seg text;
  checked record;
  matched text[];
  started timestamptz := clock_timestamp();
BEGIN
  PERFORM sync_segment_lock(gid);
  SELECT segment INTO seg FROM groups WHERE id = gid;
  IF seg IS NULL THEN RETURN; END IF;
  checked := sync_segment_check(seg);
  IF checked.problem IS NOT NULL THEN RAISE EXCEPTION '%', checked.problem; END IF;
  matched := sync_segment_match(seg, NULL);
  PERFORM set_config('afilnet_sync.segment_writer', 'on', true);
  EXECUTE $q$
    WITH matching AS MATERIALIZED (SELECT unnest($2::text[]) AS id),
    ins AS (INSERT INTO group_members (group_id, contact_id)
            SELECT $1, m.id FROM matching m
            WHERE NOT EXISTS (SELECT 1 FROM group_members gm WHERE gm.group_id = $1 AND gm.contact_id = m.id)
            ON CONFLICT DO NOTHING RETURNING 1),
    del AS (DELETE FROM group_members gm WHERE gm.group_id = $1
            AND NOT EXISTS (SELECT 1 FROM matching m WHERE m.id = gm.contact_id) RETURNING 1)
    SELECT cardinality($2::text[]), (SELECT count(*) FROM ins)::int, (SELECT count(*) FROM del)::int$q$
  INTO size, entered, gone USING gid, matched;
  PERFORM set_config('afilnet_sync.segment_writer', 'off', true);
  INSERT INTO sync_segment_state AS s (group_id, expression, time_dependent, size, evaluated_at, duration_ms, error, error_at)
  VALUES (gid, seg, checked.time_dependent, size, now(),
          (extract(epoch FROM clock_timestamp() - started) * 1000)::int, NULL, NULL)
  ON CONFLICT (group_id) DO UPDATE SET expression = excluded.expression, time_dependent = excluded.time_dependent,
    size = excluded.size, evaluated_at = excluded.evaluated_at, duration_ms = excluded.duration_ms,
    error = NULL, error_at = NULL;
END $$;
