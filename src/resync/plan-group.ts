import type pg from 'pg';
import type { AfilnetClient } from '../afilnet/index.ts';
import type { Logger } from '../observability/logger.ts';
import { mainFieldOf, type GroupShape } from '../planner/project-fields.ts';
import type { ApiCaller } from '../gateway/api-caller.ts';
import type { RemoteContact } from '../afilnet/index.ts';
import { patchGroupState } from '../state/group-state.ts';
import { recordHold } from '../sync/guard-holds.ts';
import { applyPlan, type CorrectionTarget } from './apply-corrections.ts';
import {
  bindDiff,
  diffStatements,
  INSERT_ITEMS_SQL,
  NAME_DELETE_ROWS_SQL,
  OPT_OUT_ROLE_SQL,
  RECORD_OPT_OUTS_SQL,
} from './diff-sql.ts';
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
  /** REMOTE_REMOVALS (unset: readd, the behaviour before the setting): respect records members removed in Afilnet as opted out. */
  remoteRemovals?: 'respect' | 'readd';
  /** Most members corrected per transaction (CORRECTION_CHUNK unless a test asks otherwise). */
  correctionChunk?: CorrectionTarget['chunk'];
  /** Called after each committed slice of corrections: a test's place to fail between them. */
  afterCorrectionChunk?: CorrectionTarget['afterChunk'];
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
 * Reading, diffing and storing happen in one transaction, and the staged contacts (a temporary
 * table) are never seen by another session. When applying, the sync state is then corrected in
 * transactions of a bounded number of members each (apply-corrections.ts), and the request is
 * cleared in a last one: until every slice has committed, a crash leaves the request set and the
 * group's next run plans again from a fresh read. When applying, columns are repaired
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
    // Columns to delete wait for the read: only an empty one goes without an approval.
    columns = [...wanted, ...deleteColumns];
  }
  // A dry run compares only the columns both sides have; the others are column items.
  const compared = wanted.filter((f) => columns.includes(f));

  await conn.query('BEGIN');
  try {
    // A diff a broken-off plan left on this pooled session would stop this one being built.
    await conn.query('DROP TABLE IF EXISTS pg_temp.resync_diff');
    await conn.query(`SELECT set_config('work_mem', $1, true)`, [DIFF_WORK_MEM]);
    // The staging COPY and the diff last as long as the group is big: the pool's statement and
    // idle-in-transaction timeouts (meant for the sync's short queries) would cut them.
    await conn.query(`SELECT set_config('statement_timeout', '0', true)`);
    await conn.query(`SELECT set_config('idle_in_transaction_session_timeout', '0', true)`);
    let values = new Map<string, number>();
    const read = await deps.caller.call('getcontacts', 'bulk', () => {
      values = new Map(deleteColumns.map((f) => [f, 0]));
      const contacts = countingValues(deps.client.streamContacts(remoteId), values);
      return stageRemoteContacts(conn, contacts, {
        mainField: main,
        fields: compared,
        onRead: (n) => noteProgress(deps.pool, runId, groupId, { read: n }),
      });
    });
    const held = apply ? await settleColumns(deps, conn, group, values) : [];
    await noteProgress(deps.pool, runId, groupId, { phase: 'diffing', read });
    for (const sql of diffStatements(compared)) {
      const { text, values } = bindDiff(sql, { groupId, main, fields: compared });
      await conn.query(text, values);
    }
    for (const sql of NAME_DELETE_ROWS_SQL) await conn.query(sql);
    await conn.query(OPT_OUT_ROLE_SQL, [groupId, deps.remoteRemovals === 'respect']);
    // Recorded by a dry run too (a drift check is one): the removal is a fact about Afilnet, and
    // recording it is what keeps the worker from re-adding the member on its next change.
    await conn.query(RECORD_OPT_OUTS_SQL, [groupId]);
    // A plan made again (the apply after a dry run of the same run) replaces the earlier one.
    await conn.query('DELETE FROM sync_resync_items WHERE run_id = $1 AND group_id = $2', [
      runId,
      groupId,
    ]);
    await conn.query(INSERT_ITEMS_SQL, [runId, groupId]);
    await conn.query(
      `INSERT INTO sync_resync_items (run_id, group_id, kind, main_value, detail)
       SELECT $1::bigint, $2, 'add_column', unnest($3::text[]), NULL
       UNION ALL SELECT $1::bigint, $2, 'delete_column', f, jsonb_build_object('values', n)
       FROM unnest($4::text[], $5::int[]) AS d(f, n)`,
      [runId, groupId, addColumns, [...values.keys()], [...values.values()]],
    );
    const counts = await countItems(conn, runId, groupId);
    await setGroupCounts(conn, runId, groupId, counts);
    await patchGroupProgress(conn, runId, groupId, { phase: 'planned' });
    await conn.query('COMMIT');
    // A held column stays in the group's known columns: its approval lets the reconcile delete it.
    const marked = apply
      ? await applyPlan(conn, {
          runId,
          groupId,
          columns: [...wanted, ...held],
          chunk: deps.correctionChunk,
          afterChunk: deps.afterCorrectionChunk,
        })
      : 0;
    deps.logger.info({ runId, groupId, read, counts, marked, apply }, 'resync planned');
    return { counts, read, marked };
  } catch (err) {
    await conn.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    await conn.query('DROP TABLE IF EXISTS pg_temp.resync_diff').catch(() => undefined);
  }
}

/** Passes contacts through, counting per column how many hold a value in it. */
async function* countingValues(
  contacts: AsyncIterable<RemoteContact>,
  values: Map<string, number>,
): AsyncGenerator<RemoteContact, void, undefined> {
  for await (const c of contacts) {
    for (const [f, n] of values) {
      const v: unknown = c.fields[f];
      if (v !== undefined && v !== null && v !== '') values.set(f, n + 1);
    }
    yield c;
  }
}

/**
 * Deletes the empty columns the database does not name; holds those with values (a hold of
 * kind delete_column, recorded in the plan's transaction) for approve-deletes, so no resync
 * empties a column the panel filled. Returns the held columns.
 */
async function settleColumns(
  deps: PlanDeps,
  conn: pg.PoolClient,
  group: GroupToPlan,
  values: ReadonlyMap<string, number>,
): Promise<string[]> {
  const held: string[] = [];
  for (const [field, n] of values) {
    if (n === 0) {
      await deps.caller.call('deletecolumnfromgroup', 'bulk', () =>
        deps.client.deletecolumnfromgroup(group.remoteId, field),
      );
      continue;
    }
    const reason = `column "${field}" holds ${n} values the database does not name; deleting it waits for approve-deletes`;
    await recordHold(conn, group.groupId, { kind: 'delete_column', subject: field }, n, reason);
    held.push(reason);
  }
  if (held.length > 0) {
    await patchGroupState(conn, group.groupId, { status: 'held', lastError: held.join('; ') });
  }
  return [...values].filter(([, n]) => n > 0).map(([f]) => f);
}
