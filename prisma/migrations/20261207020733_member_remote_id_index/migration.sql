-- CreateIndex
CREATE INDEX "sync_member_state_group_id_remote_id_idx" ON "sync_member_state"("group_id", "remote_id");
