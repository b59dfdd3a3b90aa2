import type pg from 'pg';
import type { AfilnetClient } from '../afilnet/index.ts';
import type { Logger } from '../observability/logger.ts';
import { mainFieldOf, type GroupShape } from '../planner/project-fields.ts';
import type { ApiCaller } from '../gateway/api-caller.ts';
import { correctState } from './correct-state.ts';
import { bindDiff, diffStatements, INSERT_ITEMS_SQL, NAME_DELETE_ROWS_SQL } from './diff-sql.ts';
import { countItems, patchGroupProgress, setGroupCounts } from './resync-store.ts';
import type { GroupProgress, KindCounts } from './resync-types.ts';
import { stageRemoteContacts } from './stage-remote.ts';

/** The remote group cannot be compared at all; retrying will not help. */
export class ResyncRefusedError extends Error {
  override name = 'ResyncRefusedError';
}

/** What planning a group needs: the database, and the Afilnet client behind the shared budget. */
export interface PlanDeps {
  pool: pg.Pool;
  client: AfilnetClient;
  caller: ApiCaller;
  logger: Logger;
}

export interface GroupToPlan {
  runId: string;
  groupId: string;
  remoteId: string;
  /** The group as the database declares it: type and fields, main field included. */
  shape: GroupShape;
  /** Apply (inside the group's worker) rather than only report. */
  apply: boolean;
}

/** What a plan found, and for an apply, how many members it handed to the worker. */
export interface GroupPlan {
  counts: KindCounts;
  read: number;
  marked: number;
}

// A full diff hashes the group a few times over; more memory keeps the hash tables off disk.
const DIFF_WORK_MEM = '128MB';

/**
 * Progress is for people watching, so it is skipped rather than waiting for a connection: a plan
 * already holds two sessions (its worker's group lock and the resync lock), and plans that each
 * waited for a third could hold every pooled connection and never free one.
 */
async function noteProgress(
  pool: pg.Pool,
  runId: string,
  groupId: string,
  patch: Partial<GroupProgress>,
): Promise<void> {
  const max = pool.options.max ?? 10;
  if (pool.idleCount === 0 && pool.totalCount >= max) return;
  await patchGroupProgress(pool, runId, groupId, patch);
}

/**
 * Reads one remote group through the shared rate budget (bulk priority), diffs it against the
 * database and stores the items, on `conn` — a session that holds the group's resync lock.
 * Reading, diffing, storing and (when applying) correcting the sync state happen in ONE
 * transaction: a crash at any point leaves no half-applied plan, and the staged contacts (a
 * temporary table) are never seen by another session. When applying, columns are repaired
 * first — the group's reconcile has already run in this job — so the member diff compares every
 * field, and the member loop never sends values to a column the remote group lacks.
 */
export async function planGroup(
  deps: PlanDeps,
  conn: pg.PoolClient,
  group: GroupToPlan,
): Promise<GroupPlan> {
  const { runId, groupId, remoteId, shape, apply } = group;
  const main = mainFieldOf(shape.type);
  const wanted = [...new Set([main, ...shape.fields])];
  await noteProgress(deps.pool, runId, groupId, { phase: 'reading', read: 0 });

  let columns = await deps.caller.call('getgroupcolumns', 'bulk', () =>
    deps.client.getgroupcolumns(remoteId),
  );
  if (!columns.includes(main)) {
    // Every contact would look unmatched: refuse rather than plan to re-add the whole group.
    throw new ResyncRefusedError(`the remote group has no "${main}" column, its main field`);
  }
  const addColumns = wanted.filter((f) => !columns.includes(f));
  const deleteColumns = columns.filter((f) => !wanted.includes(f) && f !== main);
  if (apply) {
    for (const f of addColumns) {
      await deps.caller.call('addcolumntogroup', 'bulk', () =>
        deps.client.addcolumntogroup(remoteId, f),
      );
    }
    for (const f of deleteColumns) {
      await deps.caller.call('deletecolumnfromgroup', 'bulk', () =>
        deps.client.deletecolumnfromgroup(remoteId, f),
      );
    }
    columns = wanted;
  }
  // A dry run compares only the columns both sides have; the others are column items.
  const compared = wanted.filter((f) => columns.includes(f));

  await conn.query('BEGIN');
  try {
    await conn.query(`SELECT set_config('work_mem', $1, true)`, [DIFF_WORK_MEM]);
    const read = await deps.caller.call('getcontacts', 'bulk', () =>
      stageRemoteContacts(conn, deps.client.streamContacts(remoteId), {
        mainField: main,
        fields: compared,
        onRead: (n) => noteProgress(deps.pool, runId, groupId, { read: n }),
      }),
    );
    await noteProgress(deps.pool, runId, groupId, { phase: 'diffing', read });
    for (const sql of diffStatements(compared)) {
      const { text, values } = bindDiff(sql, { groupId, main, fields: compared });
      await conn.query(text, values);
    }
    for (const sql of NAME_DELETE_ROWS_SQL) await conn.query(sql);
    // A plan made again (the apply after a dry run of the same run) replaces the earlier one.
    await conn.query('DELETE FROM sync_resync_items WHERE run_id = $1 AND group_id = $2', [
      runId,
      groupId,
    ]);
    await conn.query(INSERT_ITEMS_SQL, [runId, groupId]);
    await conn.query(
      `INSERT INTO sync_resync_items (run_id, group_id, kind, main_value)
       SELECT $1::bigint, $2, 'add_column', unnest($3::text[])
       UNION ALL SELECT $1::bigint, $2, 'delete_column', unnest($4::text[])`,
      [runId, groupId, addColumns, deleteColumns],
    );
    const marked = apply ? await correctState(conn, groupId, runId, wanted) : 0;
    const counts = await countItems(conn, runId, groupId);
    await setGroupCounts(conn, runId, groupId, counts);
    if (apply) {
      // The request flag is cleared in the transaction that applies it: a crash before the
      // commit leaves it set, and the group's next run plans again from a fresh read.
      await conn.query(
        'UPDATE sync_group_state SET resync_run_id = NULL WHERE group_id = $1 AND resync_run_id = $2',
        [groupId, runId],
      );
      await conn.query(
        `UPDATE sync_resync_runs SET status = 'applying' WHERE id = $1 AND status = 'planning'`,
        [runId],
      );
    }
    const phase = apply ? { phase: 'applying' as const, total: marked, remaining: marked } : {};
    await patchGroupProgress(conn, runId, groupId, { phase: 'planned', ...phase });
    await conn.query('COMMIT');
    deps.logger.info({ runId, groupId, read, counts, marked, apply }, 'resync planned');
    return { counts, read, marked };
  } catch (err) {
    await conn.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}
