/**
 * A proposed replacement for the row-level capture triggers of the init migration: statement-level
 * triggers with transition tables, which write a statement's identities to sync_outbox in one
 * set-based INSERT instead of one PL/pgSQL call and one INSERT per row. Same identities recorded
 * (and an UPDATE that leaves a membership as it was records nothing). The benchmark applies it on
 * top of the migrated schema as the `statement` variant; as a migration it would be this SQL.
 */
export const STATEMENT_CAPTURE_SQL = `
DROP TRIGGER "group_members_capture" ON "group_members";
DROP TRIGGER "contacts_capture_update" ON "contacts";
DROP TRIGGER "groups_capture" ON "groups";
DROP TRIGGER "groups_capture_update" ON "groups";

CREATE FUNCTION "sync_capture_member_rows"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO sync_outbox (kind, group_id, contact_id) SELECT 'member', group_id, contact_id FROM new_rows;
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO sync_outbox (kind, group_id, contact_id) SELECT 'member', group_id, contact_id FROM old_rows;
  ELSE
    -- Identities on one side only: a membership the UPDATE left as it was is not a change.
    INSERT INTO sync_outbox (kind, group_id, contact_id)
    SELECT 'member', group_id, contact_id FROM (
      (SELECT group_id, contact_id FROM old_rows EXCEPT SELECT group_id, contact_id FROM new_rows)
      UNION ALL
      (SELECT group_id, contact_id FROM new_rows EXCEPT SELECT group_id, contact_id FROM old_rows)
    ) changed;
  END IF;
  RETURN NULL;
END $$;

CREATE FUNCTION "sync_capture_contact_rows"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- Paired by id; a contact whose id changed has no pair and is recorded under its new id (its
  -- memberships are recorded by the ON UPDATE CASCADE into group_members).
  INSERT INTO sync_outbox (kind, contact_id)
  SELECT 'contact', n.id FROM new_rows n LEFT JOIN old_rows o ON o.id = n.id
  WHERE o.id IS NULL
     OR (o.mobile, o.email, o.attributes) IS DISTINCT FROM (n.mobile, n.email, n.attributes);
  RETURN NULL;
END $$;

CREATE FUNCTION "sync_capture_group_rows"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO sync_outbox (kind, group_id) SELECT 'group', id FROM new_rows;
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO sync_outbox (kind, group_id) SELECT 'group', id FROM old_rows;
  ELSE
    INSERT INTO sync_outbox (kind, group_id)
    SELECT 'group', o.id FROM old_rows o LEFT JOIN new_rows n ON n.id = o.id
    WHERE n.id IS NULL
       OR (o.name, o.type, o.fields, o.country_iso3, o.afilnet_id)
          IS DISTINCT FROM (n.name, n.type, n.fields, n.country_iso3, n.afilnet_id)
    UNION ALL
    SELECT 'group', n.id FROM new_rows n WHERE NOT EXISTS (SELECT 1 FROM old_rows o WHERE o.id = n.id);
  END IF;
  RETURN NULL;
END $$;

-- Transition tables allow one event per trigger.
CREATE TRIGGER "group_members_capture_insert" AFTER INSERT ON "group_members"
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "sync_capture_member_rows"();
CREATE TRIGGER "group_members_capture_update" AFTER UPDATE ON "group_members"
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION "sync_capture_member_rows"();
CREATE TRIGGER "group_members_capture_delete" AFTER DELETE ON "group_members"
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION "sync_capture_member_rows"();
CREATE TRIGGER "contacts_capture_update" AFTER UPDATE ON "contacts"
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION "sync_capture_contact_rows"();
CREATE TRIGGER "groups_capture_insert" AFTER INSERT ON "groups"
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "sync_capture_group_rows"();
CREATE TRIGGER "groups_capture_update" AFTER UPDATE ON "groups"
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION "sync_capture_group_rows"();
CREATE TRIGGER "groups_capture_delete" AFTER DELETE ON "groups"
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION "sync_capture_group_rows"();
`;
