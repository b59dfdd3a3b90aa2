-- AlterTable
ALTER TABLE "sync_holds" ADD COLUMN     "subject" TEXT,
ADD COLUMN     "used" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "used_at" TIMESTAMPTZ(6);
