-- CreateTable
CREATE TABLE "sync_shadow_plans" (
    "group_id" TEXT NOT NULL,
    "planned_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "calls" JSONB NOT NULL DEFAULT '{}',
    "contacts" JSONB NOT NULL DEFAULT '{}',
    "sample" JSONB NOT NULL DEFAULT '[]',

    CONSTRAINT "sync_shadow_plans_pkey" PRIMARY KEY ("group_id")
);

-- CreateTable
CREATE TABLE "sync_group_runs" (
    "id" BIGSERIAL NOT NULL,
    "group_id" TEXT NOT NULL,
    "started_at" TIMESTAMPTZ(6) NOT NULL,
    "finished_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "outcome" TEXT NOT NULL,
    "calls" JSONB NOT NULL DEFAULT '{}',
    "synced" INTEGER NOT NULL DEFAULT 0,
    "failed" INTEGER NOT NULL DEFAULT 0,
    "error" TEXT,

    CONSTRAINT "sync_group_runs_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "sync_group_runs_group_id_id_idx" ON "sync_group_runs"("group_id", "id");
