-- AlterTable
ALTER TABLE "sync_group_state" ADD COLUMN     "create_sent_at" TIMESTAMPTZ(6),
ADD COLUMN     "orphan_note" TEXT;

-- CreateTable
CREATE TABLE "sync_remote_snapshot" (
    "group_id" TEXT NOT NULL,
    "idcontact" TEXT NOT NULL,
    "main" TEXT,
    "fields" JSONB NOT NULL,

    CONSTRAINT "sync_remote_snapshot_pkey" PRIMARY KEY ("group_id","idcontact")
);

-- CreateIndex
CREATE INDEX "sync_remote_snapshot_group_id_main_idx" ON "sync_remote_snapshot"("group_id", "main");

-- ------------------------------------------------------------------------------------------
-- Below: what Prisma's schema language cannot express.
-- ------------------------------------------------------------------------------------------

-- A cache of one run's read of a remote group: never worth WAL.
ALTER TABLE "sync_remote_snapshot" SET UNLOGGED;
