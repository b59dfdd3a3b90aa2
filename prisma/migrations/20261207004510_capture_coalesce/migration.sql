-- AlterTable
ALTER TABLE "sync_outbox" ADD COLUMN     "coalesced" BOOLEAN NOT NULL DEFAULT false;

-- ------------------------------------------------------------------------------------------
-- Below: what Prisma's schema language cannot express.
-- ------------------------------------------------------------------------------------------

-- Bounding the outbox while no relay drains it (the daemon stopped for a weekend while a CRM
-- rewrites the same contacts every hour). Capture appends one row per changed identity per
-- statement. Once the outbox is backlogged, it coalesces instead: a row for an identity that
-- already has a coalesced row waiting is not added again. So the outbox holds at most the rows
-- appended before the backlog began (about the threshold, plus the statement that crossed it)
-- and one row per distinct identity after. The relay reads current state, so one row per
-- identity loses nothing.
--
-- Coalescing costs a unique-index insertion per row (measured: about 3x the cost of the append
-- itself), so it is not paid while the relay keeps up: only rows written in backlog mode enter
-- the partial index. A group row has no contact and a contact row no group: NULLs must collide.
CREATE UNIQUE INDEX "sync_outbox_coalesced_key" ON "sync_outbox"("kind", "group_id", "contact_id")
  NULLS NOT DISTINCT WHERE "coalesced";

-- Backlogged: more than 100,000 ids were handed out since the oldest waiting row. Two index
-- probes (the sequence and the primary key's first entry), whatever the outbox holds.
CREATE FUNCTION "sync_outbox_backlogged"() RETURNS boolean LANGUAGE sql STABLE AS $$
  SELECT (SELECT last_value FROM sync_outbox_id_seq)
         - COALESCE((SELECT id FROM sync_outbox ORDER BY id LIMIT 1), 9223372036854775807)
         > 100000
$$;

-- In backlog mode, DO UPDATE … WHERE false writes nothing but locks the waiting row until the
-- writer commits. DO NOTHING would not: a relay could claim and sync the row before this
-- writer's change is committed, and the change would then have no row of its own. Locked, the
-- row is skipped by the relay's FOR UPDATE SKIP LOCKED until the writer ends; a row the relay
-- is deleting makes the writer wait for the relay's commit and then insert a fresh row.
CREATE OR REPLACE FUNCTION "sync_capture_member_rows"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  backlog boolean := sync_outbox_backlogged();
BEGIN
  IF TG_OP = 'INSERT' THEN
    IF backlog THEN
      INSERT INTO sync_outbox AS o (kind, group_id, contact_id, coalesced) SELECT 'member', group_id, contact_id, true FROM new_rows
      ON CONFLICT (kind, group_id, contact_id) WHERE coalesced DO UPDATE SET created_at = o.created_at WHERE false;
    ELSE
      INSERT INTO sync_outbox (kind, group_id, contact_id) SELECT 'member', group_id, contact_id FROM new_rows;
    END IF;
  ELSIF TG_OP = 'DELETE' THEN
    IF backlog THEN
      INSERT INTO sync_outbox AS o (kind, group_id, contact_id, coalesced) SELECT 'member', group_id, contact_id, true FROM old_rows
      ON CONFLICT (kind, group_id, contact_id) WHERE coalesced DO UPDATE SET created_at = o.created_at WHERE false;
    ELSE
      INSERT INTO sync_outbox (kind, group_id, contact_id) SELECT 'member', group_id, contact_id FROM old_rows;
    END IF;
  ELSE
    -- Identities on one side only: a membership the UPDATE left as it was is not a change.
    IF backlog THEN
      INSERT INTO sync_outbox AS o (kind, group_id, contact_id, coalesced) SELECT 'member', group_id, contact_id, true FROM (
        (SELECT group_id, contact_id FROM old_rows EXCEPT SELECT group_id, contact_id FROM new_rows)
        UNION ALL
        (SELECT group_id, contact_id FROM new_rows EXCEPT SELECT group_id, contact_id FROM old_rows)
      ) changed
      ON CONFLICT (kind, group_id, contact_id) WHERE coalesced DO UPDATE SET created_at = o.created_at WHERE false;
    ELSE
      INSERT INTO sync_outbox (kind, group_id, contact_id) SELECT 'member', group_id, contact_id FROM (
        (SELECT group_id, contact_id FROM old_rows EXCEPT SELECT group_id, contact_id FROM new_rows)
        UNION ALL
        (SELECT group_id, contact_id FROM new_rows EXCEPT SELECT group_id, contact_id FROM old_rows)
      ) changed;
    END IF;
  END IF;
  RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION "sync_capture_contact_rows"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  backlog boolean := sync_outbox_backlogged();
BEGIN
  -- Paired by id; a contact whose id changed has no pair and is recorded under its new id (its
  -- memberships are recorded by the ON UPDATE CASCADE into group_members).
  IF backlog THEN
      INSERT INTO sync_outbox AS o (kind, contact_id, coalesced) SELECT 'contact', n.id, true FROM new_rows n LEFT JOIN old_rows p ON p.id = n.id
      WHERE p.id IS NULL
         OR (p.mobile, p.email, p.attributes) IS DISTINCT FROM (n.mobile, n.email, n.attributes)
      ON CONFLICT (kind, group_id, contact_id) WHERE coalesced DO UPDATE SET created_at = o.created_at WHERE false;
    ELSE
      INSERT INTO sync_outbox (kind, contact_id) SELECT 'contact', n.id FROM new_rows n LEFT JOIN old_rows p ON p.id = n.id
      WHERE p.id IS NULL
         OR (p.mobile, p.email, p.attributes) IS DISTINCT FROM (n.mobile, n.email, n.attributes);
    END IF;
  RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION "sync_capture_group_rows"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  backlog boolean := sync_outbox_backlogged();
BEGIN
  IF TG_OP = 'INSERT' THEN
    IF backlog THEN
      INSERT INTO sync_outbox AS o (kind, group_id, coalesced) SELECT 'group', id, true FROM new_rows
      ON CONFLICT (kind, group_id, contact_id) WHERE coalesced DO UPDATE SET created_at = o.created_at WHERE false;
    ELSE
      INSERT INTO sync_outbox (kind, group_id) SELECT 'group', id FROM new_rows;
    END IF;
  ELSIF TG_OP = 'DELETE' THEN
    IF backlog THEN
      INSERT INTO sync_outbox AS o (kind, group_id, coalesced) SELECT 'group', id, true FROM old_rows
      ON CONFLICT (kind, group_id, contact_id) WHERE coalesced DO UPDATE SET created_at = o.created_at WHERE false;
    ELSE
      INSERT INTO sync_outbox (kind, group_id) SELECT 'group', id FROM old_rows;
    END IF;
  ELSE
    IF backlog THEN
      INSERT INTO sync_outbox AS o (kind, group_id, coalesced) SELECT 'group', id, true FROM (
        SELECT p.id FROM old_rows p LEFT JOIN new_rows n ON n.id = p.id
        WHERE n.id IS NULL
           OR (p.name, p.type, p.fields, p.country_iso3, p.afilnet_id)
              IS DISTINCT FROM (n.name, n.type, n.fields, n.country_iso3, n.afilnet_id)
        UNION ALL
        SELECT n.id FROM new_rows n WHERE NOT EXISTS (SELECT 1 FROM old_rows p WHERE p.id = n.id)
      ) changed
      ON CONFLICT (kind, group_id, contact_id) WHERE coalesced DO UPDATE SET created_at = o.created_at WHERE false;
    ELSE
      INSERT INTO sync_outbox (kind, group_id) SELECT 'group', id FROM (
        SELECT p.id FROM old_rows p LEFT JOIN new_rows n ON n.id = p.id
        WHERE n.id IS NULL
           OR (p.name, p.type, p.fields, p.country_iso3, p.afilnet_id)
              IS DISTINCT FROM (n.name, n.type, n.fields, n.country_iso3, n.afilnet_id)
        UNION ALL
        SELECT n.id FROM new_rows n WHERE NOT EXISTS (SELECT 1 FROM old_rows p WHERE p.id = n.id)
      ) changed;
    END IF;
  END IF;
  RETURN NULL;
END $$;
