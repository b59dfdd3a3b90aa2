-- AlterTable
ALTER TABLE "sync_group_state" ADD COLUMN     "resync_run_id" BIGINT;

-- CreateTable
CREATE TABLE "sync_resync_runs" (
    "id" BIGSERIAL NOT NULL,
    "started_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "started_by" TEXT NOT NULL,
    "dry_run" BOOLEAN NOT NULL,
    "group_ids" TEXT[],
    "status" TEXT NOT NULL DEFAULT 'planning',
    "counts" JSONB NOT NULL DEFAULT '{}',
    "applied" JSONB NOT NULL DEFAULT '{}',
    "progress" JSONB NOT NULL DEFAULT '{}',
    "error" TEXT,
    "finished_at" TIMESTAMPTZ(6),

    CONSTRAINT "sync_resync_runs_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "sync_resync_items" (
    "id" BIGSERIAL NOT NULL,
    "run_id" BIGINT NOT NULL,
    "group_id" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "contact_id" TEXT,
    "remote_id" TEXT,
    "main_value" TEXT,
    "detail" JSONB,

    CONSTRAINT "sync_resync_items_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "sync_resync_runs_status_idx" ON "sync_resync_runs"("status");

-- CreateIndex
CREATE INDEX "sync_resync_items_run_id_group_id_kind_idx" ON "sync_resync_items"("run_id", "group_id", "kind");

-- AddForeignKey
ALTER TABLE "sync_resync_items" ADD CONSTRAINT "sync_resync_items_run_id_fkey" FOREIGN KEY ("run_id") REFERENCES "sync_resync_runs"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- ------------------------------------------------------------------------------------------
-- Below: what Prisma's schema language cannot express.
-- ------------------------------------------------------------------------------------------

ALTER TABLE "sync_resync_runs" ADD CONSTRAINT "sync_resync_runs_status_check"
  CHECK ("status" IN ('planning', 'planned', 'applying', 'done', 'failed'));
ALTER TABLE "sync_resync_items" ADD CONSTRAINT "sync_resync_items_kind_check"
  CHECK ("kind" IN ('add', 'delete', 'modify', 'duplicate', 'adopt', 'add_column', 'delete_column'));
ALTER TABLE "sync_resync_runs" ALTER COLUMN "group_ids" SET NOT NULL;
