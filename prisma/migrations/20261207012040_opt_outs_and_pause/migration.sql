-- AlterTable
ALTER TABLE "sync_group_state" ADD COLUMN     "paused_at" TIMESTAMPTZ(6),
ADD COLUMN     "paused_by" TEXT;

-- CreateTable
CREATE TABLE "sync_opt_outs" (
    "group_id" TEXT NOT NULL,
    "contact_id" TEXT NOT NULL,
    "main_value" TEXT,
    "detected_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "source" TEXT NOT NULL,

    CONSTRAINT "sync_opt_outs_pkey" PRIMARY KEY ("group_id","contact_id")
);

-- ---------------------------------------------------------------------------------------------
-- Hand-written: the read-only view CRMs read to honour removals made in Afilnet. A view (not the
-- table) is the contract, so the daemon's bookkeeping columns can change behind it. LIMIT ALL
-- limits nothing but makes the view not auto-updatable: a CRM's INSERT/DELETE on it is refused,
-- as clearing an opt-out is an operator's decision (opt-outs clear), not a pipeline's.
CREATE VIEW "afilnet_opt_outs" AS
SELECT "group_id", "contact_id", "main_value", "detected_at" FROM "sync_opt_outs" LIMIT ALL;

-- A resync plan shows members removed in Afilnet as their own kind (src/resync/resync-types.ts).
ALTER TABLE "sync_resync_items" DROP CONSTRAINT "sync_resync_items_kind_check";
ALTER TABLE "sync_resync_items" ADD CONSTRAINT "sync_resync_items_kind_check"
  CHECK ("kind" IN ('add', 'delete', 'modify', 'duplicate', 'adopt', 'add_column', 'delete_column',
                    'opt_out'));
