/**
 * Admin-triggered full resync: read a remote group, diff it with the database, and apply the
 * difference inside the group's own worker run. Everything outside src/resync imports from here.
 */
export { applyPendingResync } from './apply-pending-resync.ts';
export { GroupBusyError } from './resync-lock.ts';
export { runDriftCheck, startDriftChecks, type GroupDrift } from './drift-check.ts';
export { parseDriftSchedule } from './drift-schedule.ts';
export type { PlanDeps } from './plan-group.ts';
export { checkResyncProgress } from './resync-progress.ts';
export { exampleItems, readRun } from './resync-store.ts';
export {
  RESYNC_KINDS,
  type AppliedCounts,
  type GroupPhase,
  type GroupProgress,
  type KindCounts,
  type ResyncItem,
  type ResyncKind,
  type ResyncRun,
} from './resync-types.ts';
export {
  ResyncRequestError,
  startResync,
  type ResyncRequest,
  type ResyncServices,
} from './start-resync.ts';
