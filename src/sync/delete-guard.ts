import type pg from 'pg';
import { countPendingRemovals, countSyncedValues } from '../state/member-state.ts';
import {
  columnDeleteHeld,
  DAY_MS,
  groupDeleteHeld,
  memberDeletesHeld,
  type DeleteGuardSettings,
} from './delete-guard-rules.ts';
import {
  approveHolds,
  approvedUnused,
  openHoldCount,
  recordHold,
  takeApproval,
} from './guard-holds.ts';

export type { DeleteGuardSettings } from './delete-guard-rules.ts';

/** A guard's answer about one deletion, with the count it judged. */
export interface GuardVerdict {
  admitted: boolean;
  count: number;
}

/**
 * The mass-deletion guard. Member deletes beyond `percent` of a group's synced contacts within
 * one window (or `dayPercent` within 24 hours), a deletegroup of a large group, and a column
 * delete that would take values with it are held until an operator approves. An approval admits
 * what its hold covered (up to its count of member deletes, its deletegroup, its column), no
 * more: a later, bigger wipe is held again.
 */
export class DeleteGuard {
  /** Member deletes admitted by an approval and not yet recorded, per group (see recordDeletes). */
  private readonly approvedPending = new Map<string, number>();

  constructor(
    private readonly pool: pg.Pool,
    private readonly settings: DeleteGuardSettings,
  ) {}

  /** True when `count` member deletes may go ahead now; otherwise records (or updates) a hold. */
  async admitMemberDeletes(groupId: string, count: number): Promise<boolean> {
    if (count === 0) return true;
    const scope = { kind: 'deletes', subject: null } as const;
    if (await takeApproval(this.pool, groupId, scope, count, this.settings.windowMs)) {
      this.approvedPending.set(groupId, (this.approvedPending.get(groupId) ?? 0) + count);
      return true;
    }
    const res = await this.pool.query<{ synced: number; in_window: number; in_day: number }>(
      `SELECT (SELECT count(*) FROM sync_member_state WHERE group_id = $1
                 AND (synced_fields IS NOT NULL OR remote_id IS NOT NULL))::int AS synced,
              COALESCE(sum(count) FILTER (WHERE at > now() - $2 * interval '1 millisecond'), 0)::int
                AS in_window,
              COALESCE(sum(count), 0)::int AS in_day
       FROM sync_delete_log WHERE group_id = $1 AND at > now() - $3 * interval '1 millisecond'`,
      [groupId, this.settings.windowMs, Math.max(DAY_MS, this.settings.windowMs)],
    );
    const row = res.rows[0] ?? { synced: 0, in_window: 0, in_day: 0 };
    const reason = memberDeletesHeld(this.settings, {
      count,
      synced: row.synced,
      inWindow: row.in_window,
      inDay: row.in_day,
    });
    if (reason === null) return true;
    // The hold covers every delete waiting in the group, not only this chunk's: that is what
    // the operator reviews and what the approval then admits.
    const waiting = Math.max(count, await countPendingRemovals(this.pool, groupId));
    await recordHold(this.pool, groupId, scope, waiting, reason);
    return false;
  }

  /**
   * Whether deleting the remote group may go ahead now. `known` is what the database knows of
   * it; when that alone would not hold it, `readRemoteSize` counts what the remote group really
   * holds (one read), since a linked group may hold far more than its row ever had. An open hold
   * stays held without a read; only its approval releases it.
   */
  async admitGroupDelete(
    groupId: string,
    known: number,
    readRemoteSize: () => Promise<number>,
  ): Promise<GuardVerdict> {
    const scope = { kind: 'deletegroup', subject: null } as const;
    // Spent only once the group is gone (groupDeleted): a deletegroup retried after a lost
    // answer still goes ahead on the same approval.
    if (await approvedUnused(this.pool, groupId, scope)) return { admitted: true, count: known };
    const open = await openHoldCount(this.pool, groupId, scope);
    if (open !== null) return { admitted: false, count: open };
    let contacts = known;
    if (groupDeleteHeld(this.settings, known) === null) {
      contacts = Math.max(known, await readRemoteSize());
    }
    const reason = groupDeleteHeld(this.settings, contacts);
    if (reason !== null) {
      await recordHold(this.pool, groupId, scope, contacts, reason);
      return { admitted: false, count: contacts };
    }
    // Many small groups vanishing at once (a wipe of the groups table) is held as well.
    const res = await this.pool.query<{ gone: number; total: number }>(
      `SELECT count(*) FILTER (WHERE g.id IS NULL)::int AS gone, count(*)::int AS total
       FROM sync_group_state s LEFT JOIN groups g ON g.id = s.group_id WHERE s.remote_id IS NOT NULL`,
    );
    const { gone, total } = res.rows[0] ?? { gone: 0, total: 0 };
    if (gone <= 1 || gone * 100 <= total * this.settings.percent) {
      return { admitted: true, count: contacts };
    }
    await recordHold(
      this.pool,
      groupId,
      scope,
      contacts,
      `${gone} of ${total} synced groups are being deleted at once (limit ${this.settings.percent}%)`,
    );
    return { admitted: false, count: contacts };
  }

  /** The remote group is gone: its approved deletegroup is spent. */
  async groupDeleted(groupId: string): Promise<void> {
    const scope = { kind: 'deletegroup', subject: null } as const;
    await takeApproval(this.pool, groupId, scope, null, this.settings.windowMs);
  }

  /**
   * Whether a remote column may be deleted now. `remoteOnly`: a column the database never named
   * (a link found it), whose values `values` counts from a read; otherwise the values are the
   * ones the database sent. An open hold stays held without counting again.
   */
  async admitColumnDelete(
    groupId: string,
    field: string,
    found: { remoteOnly: boolean; values: number } | null,
  ): Promise<GuardVerdict & { reason: string | null }> {
    const scope = { kind: 'delete_column', subject: field } as const;
    if (await takeApproval(this.pool, groupId, scope, null, this.settings.windowMs)) {
      return { admitted: true, count: found?.values ?? 0, reason: null };
    }
    const open = await openHoldCount(this.pool, groupId, scope);
    if (open !== null) {
      const reason = `column "${field}" holds ${open} values; deleting it waits for approve-deletes`;
      return { admitted: false, count: open, reason };
    }
    const { synced, values } = await countSyncedValues(this.pool, groupId, field);
    const judged = found ?? { remoteOnly: false, values };
    const reason = columnDeleteHeld(this.settings, { field, synced, ...judged });
    if (reason === null) return { admitted: true, count: judged.values, reason: null };
    await recordHold(this.pool, groupId, scope, judged.values, reason);
    return { admitted: false, count: judged.values, reason };
  }

  /**
   * Records deletes that were made, for the window's arithmetic. Deletes an approval admitted
   * were reviewed: they do not count against the group's next unreviewed deletes.
   */
  async recordDeletes(groupId: string, count: number): Promise<void> {
    const approved = Math.min(count, this.approvedPending.get(groupId) ?? 0);
    this.approvedPending.delete(groupId);
    const unreviewed = count - approved;
    if (unreviewed <= 0) return;
    await this.pool.query('INSERT INTO sync_delete_log (group_id, count) VALUES ($1, $2)', [
      groupId,
      unreviewed,
    ]);
  }
}

/** Approves every open hold of a group; returns how many were released. */
export async function approveDeletes(
  pool: pg.Pool,
  groupId: string,
  approvedBy: string,
): Promise<number> {
  return approveHolds(pool, groupId, approvedBy);
}
