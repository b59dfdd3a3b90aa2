-- Change capture fires for every write, replicated ones included. A trigger left at the default
-- (ENABLE, "origin") does nothing in a session with session_replication_role = replica: a
-- restore tool, a logical-replication apply worker or a careless bulk loader that sets it wrote
-- rows the daemon never saw. ENABLE ALWAYS makes these triggers fire in every session.
-- (ALTER TABLE … DISABLE TRIGGER still turns them off; the daemon warns when one is.)
ALTER TABLE "groups" ENABLE ALWAYS TRIGGER "groups_capture_insert";
ALTER TABLE "groups" ENABLE ALWAYS TRIGGER "groups_capture_update";
ALTER TABLE "groups" ENABLE ALWAYS TRIGGER "groups_capture_delete";
ALTER TABLE "groups" ENABLE ALWAYS TRIGGER "groups_notify";
ALTER TABLE "groups" ENABLE ALWAYS TRIGGER "groups_no_truncate";
ALTER TABLE "contacts" ENABLE ALWAYS TRIGGER "contacts_capture_update";
ALTER TABLE "contacts" ENABLE ALWAYS TRIGGER "contacts_notify";
ALTER TABLE "contacts" ENABLE ALWAYS TRIGGER "contacts_no_truncate";
ALTER TABLE "group_members" ENABLE ALWAYS TRIGGER "group_members_capture_insert";
ALTER TABLE "group_members" ENABLE ALWAYS TRIGGER "group_members_capture_update";
ALTER TABLE "group_members" ENABLE ALWAYS TRIGGER "group_members_capture_delete";
ALTER TABLE "group_members" ENABLE ALWAYS TRIGGER "group_members_notify";
ALTER TABLE "group_members" ENABLE ALWAYS TRIGGER "group_members_no_truncate";
