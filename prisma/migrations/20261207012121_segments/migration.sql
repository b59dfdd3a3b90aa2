-- AlterTable
ALTER TABLE "groups" ADD COLUMN     "segment" TEXT;

-- CreateTable
CREATE TABLE "sync_segment_state" (
    "group_id" TEXT NOT NULL,
    "expression" TEXT,
    "time_dependent" BOOLEAN NOT NULL DEFAULT false,
    "size" INTEGER NOT NULL DEFAULT 0,
    "evaluated_at" TIMESTAMPTZ(6),
    "duration_ms" INTEGER,
    "error" TEXT,
    "error_at" TIMESTAMPTZ(6),

    CONSTRAINT "sync_segment_state_pkey" PRIMARY KEY ("group_id")
);

-- ------------------------------------------------------------------------------------------
-- Below: what Prisma's schema language cannot express (segment validation and capture).
-- ------------------------------------------------------------------------------------------

-- The daemon splices a segment into its own statements as `WHERE (<segment>)`. So that no text
-- can leave those parentheses, the filter must be one balanced expression: outside quoted
-- strings and identifiers, no `;`, no comment, no `$` (a parameter or a dollar quote), and no
-- `)` closing more than it opened. Returns the problem, or null.
CREATE FUNCTION "sync_segment_shape_problem"(expr text) RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
  depth int := 0;
  quote text := NULL;
  ch text;
  nxt text;
  i int := 1;
BEGIN
  IF btrim(expr) = '' THEN RETURN 'the segment is empty (set it to NULL for a group of listed members)'; END IF;
  WHILE i <= length(expr) LOOP
    ch := substr(expr, i, 1);
    nxt := substr(expr, i + 1, 1);
    IF quote IS NOT NULL THEN
      IF ch = quote AND nxt = quote THEN i := i + 1;        -- a doubled quote stays inside
      ELSIF ch = quote THEN quote := NULL;
      END IF;
    ELSIF ch IN ('''', '"') THEN quote := ch;
    ELSIF ch = ';' THEN RETURN 'the segment must be one expression: no ";"';
    ELSIF ch = '$' THEN RETURN 'the segment may not use "$" (parameters or dollar quotes) outside a quoted string';
    ELSIF (ch = '-' AND nxt = '-') OR (ch = '/' AND nxt = '*') THEN RETURN 'the segment may not contain comments';
    ELSIF ch = '(' THEN depth := depth + 1;
    ELSIF ch = ')' THEN
      depth := depth - 1;
      IF depth < 0 THEN RETURN 'the segment closes a parenthesis it did not open'; END IF;
    END IF;
    i := i + 1;
  END LOOP;
  IF quote IS NOT NULL THEN RETURN 'the segment has an unterminated quoted string or identifier'; END IF;
  IF depth <> 0 THEN RETURN 'the segment has an unclosed parenthesis'; END IF;
  RETURN NULL;
END $$;

-- Checks a filter the way Postgres would run it, without running it: a temporary view
-- `SELECT c.id FROM contacts c WHERE (<segment>)` is parsed and analysed (a syntax error, an
-- unknown column, a type error or a non-boolean filter fails here with Postgres' own message),
-- and the view's stored query tree says every function, operator and table it would use
-- (pg_depend would not: it leaves out built-in objects). Refused: any volatile function
-- (writes through a function, nextval, random(), pg_sleep, set_config, …) and any sync_ table.
-- time_dependent: it calls a stable function (now(), current_date) or reads a table other than
-- the contact itself (another table, or contacts again in a subquery), so its result can change without a contact changing (refreshed on schedule).
-- SECURITY DEFINER: a CRM role may lack the TEMP privilege the probe view needs.
CREATE FUNCTION "sync_segment_check"(expr text, OUT problem text, OUT time_dependent boolean)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  tree text;
BEGIN
  problem := sync_segment_shape_problem(expr);
  time_dependent := false;
  IF problem IS NOT NULL THEN RETURN; END IF;
  IF to_regclass('pg_temp.sync_segment_probe') IS NOT NULL THEN DROP VIEW pg_temp.sync_segment_probe; END IF;
  EXECUTE format('CREATE TEMP VIEW sync_segment_probe AS SELECT c.id FROM public.contacts c WHERE (%s)', expr);
  SELECT r.ev_action::text INTO tree FROM pg_rewrite r
  WHERE r.ev_class = 'pg_temp.sync_segment_probe'::regclass;
  DROP VIEW pg_temp.sync_segment_probe;
  WITH fn_ids AS (
    SELECT m[1]::oid AS id FROM regexp_matches(tree, ':(?:funcid|opfuncid|aggfnoid|winfnoid) (\d+)', 'g') m
    UNION
    SELECT o.oprcode::oid FROM regexp_matches(tree, ':opno (\d+)', 'g') m JOIN pg_operator o ON o.oid = m[1]::oid),
  fns AS (SELECT p.oid::regprocedure::text AS name, p.provolatile FROM fn_ids JOIN pg_proc p ON p.oid = fn_ids.id),
  rels AS (
    SELECT c.relname FROM regexp_matches(tree, ':relid (\d+)', 'g') m
    JOIN pg_class c ON c.oid = m[1]::oid)
  SELECT COALESCE(
           (SELECT 'the segment may not call the volatile function ' || name || ' (segments are read-only and repeatable)'
            FROM fns WHERE provolatile = 'v' ORDER BY name LIMIT 1),
           (SELECT 'the segment may not read ' || relname || ' (afilnet-sync''s own tables are private)'
            FROM rels WHERE relname LIKE 'sync\_%' OR relname LIKE '\_prisma%' ORDER BY relname LIMIT 1)),
         EXISTS (SELECT 1 FROM fns WHERE provolatile = 's')
           OR EXISTS (SELECT 1 FROM rels WHERE relname NOT IN ('contacts', 'sync_segment_probe'))
           -- contacts read again in a subquery: other contacts' changes can change the result.
           OR (SELECT count(*) FROM rels WHERE relname = 'contacts') > 1
    INTO problem, time_dependent;
END $$;

-- Refuses a bad segment when the group row is written, with Postgres' own message for what it
-- could not parse or type, so a pipeline learns at once rather than from a failing daemon.
CREATE FUNCTION "sync_validate_segment"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  checked record;
BEGIN
  BEGIN
    checked := sync_segment_check(NEW.segment);
  EXCEPTION WHEN OTHERS THEN
    RAISE EXCEPTION 'segment of group "%" is not a valid filter: %', NEW.id, SQLERRM
      USING ERRCODE = SQLSTATE, HINT = 'A segment is a boolean SQL expression over the contact aliased c, e.g. c.attributes->>''city'' = ''Madrid''.';
  END;
  IF checked.problem IS NOT NULL THEN
    RAISE EXCEPTION 'segment of group "%" is refused: %', NEW.id, checked.problem
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  RETURN NEW;
END $$;

CREATE TRIGGER "groups_validate_segment" BEFORE INSERT OR UPDATE OF "segment" ON "groups"
  FOR EACH ROW WHEN (NEW.segment IS NOT NULL) EXECUTE FUNCTION "sync_validate_segment"();

-- A set or changed segment is captured as a 'segment' row: the daemon re-evaluates the whole
-- group as one diff. Group rows are few, so row-level triggers cost nothing worth measuring.
CREATE FUNCTION "sync_capture_segment_rows"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO sync_outbox (kind, group_id) VALUES ('segment', NEW.id);
  RETURN NULL;
END $$;

CREATE TRIGGER "groups_capture_segment_insert" AFTER INSERT ON "groups"
  FOR EACH ROW WHEN (NEW.segment IS NOT NULL) EXECUTE FUNCTION "sync_capture_segment_rows"();
CREATE TRIGGER "groups_capture_segment_update" AFTER UPDATE OF "segment" ON "groups"
  FOR EACH ROW WHEN (OLD.segment IS DISTINCT FROM NEW.segment) EXECUTE FUNCTION "sync_capture_segment_rows"();

-- A new contact may match a segment, so inserted contacts are captured, but only while some
-- group has a segment: without one a new contact is in no group, and a bulk import pays nothing.
CREATE FUNCTION "sync_capture_contact_inserts"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM groups WHERE segment IS NOT NULL) THEN RETURN NULL; END IF;
  IF sync_outbox_backlogged() THEN
    INSERT INTO sync_outbox AS o (kind, contact_id, coalesced) SELECT 'contact', id, true FROM new_rows
    ON CONFLICT (kind, group_id, contact_id) WHERE coalesced DO UPDATE SET created_at = o.created_at WHERE false;
  ELSE
    INSERT INTO sync_outbox (kind, contact_id) SELECT 'contact', id FROM new_rows;
  END IF;
  PERFORM pg_notify('afilnet_sync_outbox', '');
  RETURN NULL;
END $$;

CREATE TRIGGER "contacts_capture_insert" AFTER INSERT ON "contacts"
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "sync_capture_contact_inserts"();

-- A segment group's members are written by afilnet-sync alone (it sets afilnet_sync.segment_writer
-- in its own transaction). A CRM's insert, update or delete of such a row is refused; deletes that
-- cascade from a deleted contact or group pass (the parent row is gone by then).
CREATE FUNCTION "sync_refuse_segment_members"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  gid text;
BEGIN
  IF current_setting('afilnet_sync.segment_writer', true) = 'on' THEN RETURN NULL; END IF;
  IF NOT EXISTS (SELECT 1 FROM groups WHERE segment IS NOT NULL) THEN RETURN NULL; END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    SELECT n.group_id INTO gid FROM new_rows n JOIN groups g ON g.id = n.group_id
    WHERE g.segment IS NOT NULL LIMIT 1;
  END IF;
  IF gid IS NULL AND TG_OP IN ('DELETE', 'UPDATE') THEN
    SELECT o.group_id INTO gid FROM old_rows o JOIN groups g ON g.id = o.group_id
    WHERE g.segment IS NOT NULL AND EXISTS (SELECT 1 FROM contacts c WHERE c.id = o.contact_id) LIMIT 1;
  END IF;
  IF gid IS NOT NULL THEN
    RAISE EXCEPTION 'group "%" is defined by its segment: its members are the contacts the segment matches, written by afilnet-sync only', gid
      USING ERRCODE = 'check_violation',
            HINT = 'Change groups.segment to change who is in the group, or set it to NULL to list the members yourself.';
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER "group_members_segment_insert" AFTER INSERT ON "group_members"
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "sync_refuse_segment_members"();
CREATE TRIGGER "group_members_segment_update" AFTER UPDATE ON "group_members"
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION "sync_refuse_segment_members"();
CREATE TRIGGER "group_members_segment_delete" AFTER DELETE ON "group_members"
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION "sync_refuse_segment_members"();

-- Fire for replicated writes too, like every capture trigger (capture_always migration).
ALTER TABLE "groups" ENABLE ALWAYS TRIGGER "groups_validate_segment";
ALTER TABLE "groups" ENABLE ALWAYS TRIGGER "groups_capture_segment_insert";
ALTER TABLE "groups" ENABLE ALWAYS TRIGGER "groups_capture_segment_update";
ALTER TABLE "contacts" ENABLE ALWAYS TRIGGER "contacts_capture_insert";
ALTER TABLE "group_members" ENABLE ALWAYS TRIGGER "group_members_segment_insert";
ALTER TABLE "group_members" ENABLE ALWAYS TRIGGER "group_members_segment_update";
ALTER TABLE "group_members" ENABLE ALWAYS TRIGGER "group_members_segment_delete";

-- Evaluations of one segment group are serialised by this transaction lock, so a whole-group
-- diff working from an older snapshot cannot undo what an incremental one just applied.
CREATE FUNCTION "sync_segment_lock"(gid text) RETURNS void LANGUAGE sql AS $$
  SELECT pg_advisory_xact_lock(hashtext('afilnet_sync_segment'), hashtext(gid))
$$;

-- Re-evaluates every segment for the given (changed) contacts: one statement per segment, each
-- in its own subtransaction, so a filter failing at run time (a cast of a bad value) is recorded
-- on its group and the other segments go on. Returns how many memberships it added or removed;
-- their capture rows become dirty marks like any membership change.
CREATE FUNCTION "sync_segment_apply_contacts"(ids text[]) RETURNS integer LANGUAGE plpgsql AS $$
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
      INSERT INTO sync_segment_state AS s (group_id, error, error_at) VALUES (g.id, SQLERRM, now())
      ON CONFLICT (group_id) DO UPDATE SET error = excluded.error, error_at = now();
    END;
  END LOOP;
  PERFORM set_config('afilnet_sync.segment_writer', 'off', true);
  RETURN changed;
END $$;

-- Evaluates one segment group whole, as one diff against its members, and records it. The
-- caller bounds it with statement_timeout and records a failure (the transaction is lost).
CREATE FUNCTION "sync_segment_evaluate"(gid text, OUT size int, OUT entered int, OUT gone int)
LANGUAGE plpgsql AS $$
DECLARE
  seg text;
  checked record;
  started timestamptz := clock_timestamp();
BEGIN
  PERFORM sync_segment_lock(gid);
  SELECT segment INTO seg FROM groups WHERE id = gid;
  IF seg IS NULL THEN RETURN; END IF;
  checked := sync_segment_check(seg);
  IF checked.problem IS NOT NULL THEN RAISE EXCEPTION '%', checked.problem; END IF;
  PERFORM set_config('afilnet_sync.segment_writer', 'on', true);
  EXECUTE format($q$
    WITH matching AS MATERIALIZED (SELECT c.id FROM contacts c WHERE (%s)),
    ins AS (INSERT INTO group_members (group_id, contact_id)
            SELECT $1, m.id FROM matching m
            WHERE NOT EXISTS (SELECT 1 FROM group_members gm WHERE gm.group_id = $1 AND gm.contact_id = m.id)
            ON CONFLICT DO NOTHING RETURNING 1),
    del AS (DELETE FROM group_members gm WHERE gm.group_id = $1
            AND NOT EXISTS (SELECT 1 FROM matching m WHERE m.id = gm.contact_id) RETURNING 1)
    SELECT (SELECT count(*) FROM matching)::int, (SELECT count(*) FROM ins)::int, (SELECT count(*) FROM del)::int$q$, seg)
  INTO size, entered, gone USING gid;
  PERFORM set_config('afilnet_sync.segment_writer', 'off', true);
  INSERT INTO sync_segment_state AS s (group_id, expression, time_dependent, size, evaluated_at, duration_ms, error, error_at)
  VALUES (gid, seg, checked.time_dependent, size, now(),
          (extract(epoch FROM clock_timestamp() - started) * 1000)::int, NULL, NULL)
  ON CONFLICT (group_id) DO UPDATE SET expression = excluded.expression, time_dependent = excluded.time_dependent,
    size = excluded.size, evaluated_at = excluded.evaluated_at, duration_ms = excluded.duration_ms,
    error = NULL, error_at = NULL;
END $$;
