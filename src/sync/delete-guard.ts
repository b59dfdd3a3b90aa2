import type pg from 'pg';

export interface DeleteGuardSettings {
  percent: number;
  /** A deletegroup of a group with more synced contacts than this is held. */
  groupMin: number;
  /** This many deletes per window never trip the percentage rule (tiny groups stay usable). */
  floor: number;
  windowMs: number;
}

/**
 * The mass-deletion guard. Member deletes beyond `percent` of a group's synced contacts within one
 * window, or a deletegroup of a large group, are held until an operator approves; an approval
 * releases the group's deletes for one window.
 */
export class DeleteGuard {
  constructor(
    private readonly pool: pg.Pool,
    private readonly settings: DeleteGuardSettings,
  ) {}

  /** True when `count` member deletes may go ahead now; otherwise records (or updates) a hold. */
  async admitMemberDeletes(groupId: string, count: number): Promise<boolean> {
    if (count === 0) return true;
    if (await this.approved(groupId)) return true;
    const res = await this.pool.query<{ synced: number; recent: number }>(
      `SELECT (SELECT count(*) FROM sync_member_state WHERE group_id = $1
                 AND (synced_fields IS NOT NULL OR remote_id IS NOT NULL))::int AS synced,
              (SELECT COALESCE(sum(count), 0) FROM sync_delete_log WHERE group_id = $1
                 AND at > now() - $2 * interval '1 millisecond')::int AS recent`,
      [groupId, this.settings.windowMs],
    );
    const { synced, recent } = res.rows[0] ?? { synced: 0, recent: 0 };
    const wouldDelete = recent + count;
    const base = synced + recent;
    if (wouldDelete <= this.settings.floor || wouldDelete * 100 <= base * this.settings.percent) {
      return true;
    }
    await this.hold(
      groupId,
      'deletes',
      count,
      `${wouldDelete} of ${base} synced contacts would be deleted within the guard window ` +
        `(limit ${this.settings.percent}%)`,
    );
    return false;
  }

  /** True when deleting a remote group with `contacts` synced contacts may go ahead now. */
  async admitGroupDelete(groupId: string, contacts: number): Promise<boolean> {
    if (await this.approved(groupId)) return true;
    if (contacts > this.settings.groupMin) {
      await this.hold(
        groupId,
        'deletegroup',
        contacts,
        `the group holds ${contacts} synced contacts (more than ${this.settings.groupMin})`,
      );
      return false;
    }
    // Many small groups vanishing at once (a wipe of the groups table) is held as well.
    const res = await this.pool.query<{ gone: number; total: number }>(
      `SELECT count(*) FILTER (WHERE g.id IS NULL)::int AS gone, count(*)::int AS total
       FROM sync_group_state s LEFT JOIN groups g ON g.id = s.group_id WHERE s.remote_id IS NOT NULL`,
    );
    const { gone, total } = res.rows[0] ?? { gone: 0, total: 0 };
    if (gone <= 1 || gone * 100 <= total * this.settings.percent) return true;
    await this.hold(
      groupId,
      'deletegroup',
      contacts,
      `${gone} of ${total} synced groups are being deleted at once (limit ${this.settings.percent}%)`,
    );
    return false;
  }

  /** Records deletes that were made, for the window's arithmetic. */
  async recordDeletes(groupId: string, count: number): Promise<void> {
    if (count === 0) return;
    await this.pool.query('INSERT INTO sync_delete_log (group_id, count) VALUES ($1, $2)', [
      groupId,
      count,
    ]);
  }

  private async approved(groupId: string): Promise<boolean> {
    const res = await this.pool.query(
      `SELECT 1 FROM sync_holds WHERE group_id = $1 AND approved_at > now() - $2 * interval '1 millisecond'`,
      [groupId, this.settings.windowMs],
    );
    return (res.rowCount ?? 0) > 0;
  }

  private async hold(groupId: string, kind: string, count: number, reason: string): Promise<void> {
    const updated = await this.pool.query(
      `UPDATE sync_holds SET count = $3, reason = $4 WHERE group_id = $1 AND kind = $2 AND approved_at IS NULL`,
      [groupId, kind, count, reason],
    );
    if (updated.rowCount === 0) {
      await this.pool.query(
        'INSERT INTO sync_holds (group_id, kind, count, reason) VALUES ($1, $2, $3, $4)',
        [groupId, kind, count, reason],
      );
    }
  }
}

/** Approves every open hold of a group; returns how many were released. */
export async function approveDeletes(
  pool: pg.Pool,
  groupId: string,
  approvedBy: string,
): Promise<number> {
  const res = await pool.query(
    `UPDATE sync_holds SET approved_at = now(), approved_by = $2 WHERE group_id = $1 AND approved_at IS NULL`,
    [groupId, approvedBy],
  );
  return res.rowCount ?? 0;
}
