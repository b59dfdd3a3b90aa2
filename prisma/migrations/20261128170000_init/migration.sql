-- CreateTable
CREATE TABLE "groups" (
    "id" TEXT NOT NULL DEFAULT (gen_random_uuid())::text,
    "name" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "fields" TEXT[],
    "country_iso3" TEXT,
    "afilnet_id" TEXT,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "groups_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "contacts" (
    "id" TEXT NOT NULL DEFAULT (gen_random_uuid())::text,
    "mobile" TEXT,
    "email" TEXT,
    "attributes" JSONB NOT NULL DEFAULT '{}',
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "contacts_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "group_members" (
    "group_id" TEXT NOT NULL,
    "contact_id" TEXT NOT NULL,

    CONSTRAINT "group_members_pkey" PRIMARY KEY ("group_id","contact_id")
);

-- CreateTable
CREATE TABLE "sync_outbox" (
    "id" BIGSERIAL NOT NULL,
    "kind" TEXT NOT NULL,
    "group_id" TEXT,
    "contact_id" TEXT,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "sync_outbox_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "sync_dirty" (
    "group_id" TEXT NOT NULL,
    "contact_id" TEXT NOT NULL,
    "seq" BIGINT NOT NULL,
    "bulk" BOOLEAN NOT NULL DEFAULT false,
    "marked_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "sync_dirty_pkey" PRIMARY KEY ("group_id","contact_id")
);

-- CreateTable
CREATE TABLE "sync_member_state" (
    "group_id" TEXT NOT NULL,
    "contact_id" TEXT NOT NULL,
    "remote_id" TEXT,
    "main_value" TEXT,
    "synced_fields" JSONB,
    "status" TEXT NOT NULL DEFAULT 'synced',
    "uncertain" BOOLEAN NOT NULL DEFAULT false,
    "last_method" TEXT,
    "last_call_at" TIMESTAMPTZ(6),
    "last_result" TEXT,
    "last_error" TEXT,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "sync_member_state_pkey" PRIMARY KEY ("group_id","contact_id")
);

-- CreateTable
CREATE TABLE "sync_group_state" (
    "group_id" TEXT NOT NULL,
    "remote_id" TEXT,
    "type" TEXT,
    "name" TEXT,
    "synced_fields" TEXT[],
    "synced_country" TEXT,
    "dirty" BOOLEAN NOT NULL DEFAULT false,
    "dirty_seq" BIGINT NOT NULL DEFAULT 0,
    "status" TEXT NOT NULL DEFAULT 'ok',
    "last_error" TEXT,
    "last_sync_at" TIMESTAMPTZ(6),
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "sync_group_state_pkey" PRIMARY KEY ("group_id")
);

-- CreateTable
CREATE TABLE "sync_holds" (
    "id" BIGSERIAL NOT NULL,
    "group_id" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "count" INTEGER NOT NULL,
    "reason" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "approved_at" TIMESTAMPTZ(6),
    "approved_by" TEXT,

    CONSTRAINT "sync_holds_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "sync_delete_log" (
    "id" BIGSERIAL NOT NULL,
    "group_id" TEXT NOT NULL,
    "count" INTEGER NOT NULL,
    "at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "sync_delete_log_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "groups_afilnet_id_key" ON "groups"("afilnet_id");

-- CreateIndex
CREATE INDEX "group_members_contact_id_idx" ON "group_members"("contact_id");

-- CreateIndex
CREATE INDEX "sync_dirty_group_id_bulk_seq_idx" ON "sync_dirty"("group_id", "bulk", "seq");

-- CreateIndex
CREATE INDEX "sync_member_state_group_id_main_value_idx" ON "sync_member_state"("group_id", "main_value");

-- CreateIndex
CREATE INDEX "sync_member_state_status_idx" ON "sync_member_state"("status");

-- CreateIndex
CREATE INDEX "sync_holds_group_id_approved_at_idx" ON "sync_holds"("group_id", "approved_at");

-- CreateIndex
CREATE INDEX "sync_delete_log_group_id_at_idx" ON "sync_delete_log"("group_id", "at");

-- AddForeignKey
ALTER TABLE "group_members" ADD CONSTRAINT "group_members_group_id_fkey" FOREIGN KEY ("group_id") REFERENCES "groups"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "group_members" ADD CONSTRAINT "group_members_contact_id_fkey" FOREIGN KEY ("contact_id") REFERENCES "contacts"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- ------------------------------------------------------------------------------------------
-- Below: what Prisma's schema language cannot express (checks, sequences, change capture).
-- ------------------------------------------------------------------------------------------

ALTER TABLE "groups" ALTER COLUMN "fields" SET NOT NULL;
ALTER TABLE "groups" ADD CONSTRAINT "groups_type_check" CHECK ("type" IN ('mobile', 'email'));
-- "fields must include the main field" is enforced by the daemon, which records the rejection
-- (a CHECK here would refuse the writer's whole transaction).

-- Orders dirty marks: a mark re-made after a worker read it has a higher seq and survives.
CREATE SEQUENCE "sync_dirty_seq";

-- Keeps updated_at true for writers that do not set it.
CREATE FUNCTION "sync_touch_updated_at"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated_at := now();
  RETURN NEW;
END $$;

CREATE TRIGGER "groups_touch" BEFORE UPDATE ON "groups"
  FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION "sync_touch_updated_at"();
CREATE TRIGGER "contacts_touch" BEFORE UPDATE ON "contacts"
  FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION "sync_touch_updated_at"();

-- Change capture: every committed write to a public table leaves an identity in sync_outbox, in
-- the writer's own transaction. One NOTIFY per statement wakes the relays.
CREATE FUNCTION "sync_capture_member"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    INSERT INTO sync_outbox (kind, group_id, contact_id) VALUES ('member', OLD.group_id, OLD.contact_id);
  ELSIF TG_OP = 'INSERT' THEN
    INSERT INTO sync_outbox (kind, group_id, contact_id) VALUES ('member', NEW.group_id, NEW.contact_id);
  ELSE
    INSERT INTO sync_outbox (kind, group_id, contact_id) VALUES ('member', OLD.group_id, OLD.contact_id);
    IF (OLD.group_id, OLD.contact_id) IS DISTINCT FROM (NEW.group_id, NEW.contact_id) THEN
      INSERT INTO sync_outbox (kind, group_id, contact_id) VALUES ('member', NEW.group_id, NEW.contact_id);
    END IF;
  END IF;
  RETURN NULL;
END $$;

CREATE FUNCTION "sync_capture_contact"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- A contact's memberships are expanded by the relay, at read time: cheap for the writer.
  -- Inserts and deletes need no row here: memberships carry them (deletes cascade).
  INSERT INTO sync_outbox (kind, contact_id) VALUES ('contact', NEW.id);
  RETURN NULL;
END $$;

CREATE FUNCTION "sync_capture_group"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    INSERT INTO sync_outbox (kind, group_id) VALUES ('group', OLD.id);
  END IF;
  IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND OLD.id IS DISTINCT FROM NEW.id) THEN
    INSERT INTO sync_outbox (kind, group_id) VALUES ('group', NEW.id);
  END IF;
  RETURN NULL;
END $$;

CREATE FUNCTION "sync_notify"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('afilnet_sync_outbox', '');
  RETURN NULL;
END $$;

CREATE FUNCTION "sync_refuse_truncate"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'TRUNCATE of "%" is refused: afilnet-sync could not capture what it removes. Use DELETE, whose removals are synced (and held by the mass-deletion guard).', TG_TABLE_NAME
    USING ERRCODE = 'feature_not_supported';
END $$;

CREATE TRIGGER "group_members_capture" AFTER INSERT OR UPDATE OR DELETE ON "group_members"
  FOR EACH ROW EXECUTE FUNCTION "sync_capture_member"();
-- An UPDATE that changes nothing a remote group could hold is skipped.
CREATE TRIGGER "contacts_capture_update" AFTER UPDATE ON "contacts"
  FOR EACH ROW WHEN ((OLD.id, OLD.mobile, OLD.email, OLD.attributes) IS DISTINCT FROM (NEW.id, NEW.mobile, NEW.email, NEW.attributes))
  EXECUTE FUNCTION "sync_capture_contact"();
CREATE TRIGGER "groups_capture" AFTER INSERT OR DELETE ON "groups"
  FOR EACH ROW EXECUTE FUNCTION "sync_capture_group"();
CREATE TRIGGER "groups_capture_update" AFTER UPDATE ON "groups"
  FOR EACH ROW WHEN ((OLD.id, OLD.name, OLD.type, OLD.fields, OLD.country_iso3, OLD.afilnet_id) IS DISTINCT FROM (NEW.id, NEW.name, NEW.type, NEW.fields, NEW.country_iso3, NEW.afilnet_id))
  EXECUTE FUNCTION "sync_capture_group"();

CREATE TRIGGER "group_members_notify" AFTER INSERT OR UPDATE OR DELETE ON "group_members"
  FOR EACH STATEMENT EXECUTE FUNCTION "sync_notify"();
CREATE TRIGGER "contacts_notify" AFTER UPDATE ON "contacts"
  FOR EACH STATEMENT EXECUTE FUNCTION "sync_notify"();
CREATE TRIGGER "groups_notify" AFTER INSERT OR UPDATE OR DELETE ON "groups"
  FOR EACH STATEMENT EXECUTE FUNCTION "sync_notify"();

CREATE TRIGGER "groups_no_truncate" BEFORE TRUNCATE ON "groups"
  FOR EACH STATEMENT EXECUTE FUNCTION "sync_refuse_truncate"();
CREATE TRIGGER "contacts_no_truncate" BEFORE TRUNCATE ON "contacts"
  FOR EACH STATEMENT EXECUTE FUNCTION "sync_refuse_truncate"();
CREATE TRIGGER "group_members_no_truncate" BEFORE TRUNCATE ON "group_members"
  FOR EACH STATEMENT EXECUTE FUNCTION "sync_refuse_truncate"();
