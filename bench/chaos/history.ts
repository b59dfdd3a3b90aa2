/**
 * The soak's own record of what the writers committed, kept by triggers on the public tables in
 * the writers' transactions: for a lost or stale member, the evidence shows its history (joined,
 * removed, edited) next to what the daemon last recorded. Not part of the system under test;
 * the daemon never reads it.
 */
export const HISTORY_DDL = `
CREATE TABLE IF NOT EXISTS chaos_history (
  id bigserial PRIMARY KEY,
  at timestamptz NOT NULL DEFAULT clock_timestamp(),
  xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
  op text NOT NULL,
  group_id text,
  contact_id text NOT NULL,
  detail jsonb
);
CREATE INDEX IF NOT EXISTS chaos_history_contact ON chaos_history (contact_id, id);

CREATE OR REPLACE FUNCTION chaos_record_member() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO chaos_history (op, group_id, contact_id) VALUES ('join', NEW.group_id, NEW.contact_id);
  ELSE
    INSERT INTO chaos_history (op, group_id, contact_id) VALUES ('leave', OLD.group_id, OLD.contact_id);
  END IF;
  RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION chaos_record_contact() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO chaos_history (op, contact_id, detail) VALUES (lower(TG_OP), NEW.id,
    jsonb_build_object('mobile', NEW.mobile, 'email', NEW.email, 'attributes', NEW.attributes));
  RETURN NULL;
END $$;

DROP TRIGGER IF EXISTS chaos_history_member ON group_members;
CREATE TRIGGER chaos_history_member AFTER INSERT OR DELETE ON group_members
  FOR EACH ROW EXECUTE FUNCTION chaos_record_member();
DROP TRIGGER IF EXISTS chaos_history_contact ON contacts;
CREATE TRIGGER chaos_history_contact AFTER INSERT OR UPDATE ON contacts
  FOR EACH ROW EXECUTE FUNCTION chaos_record_contact();
`;
