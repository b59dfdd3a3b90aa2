/** The guard's settings (DELETE_GUARD_*). */
export interface DeleteGuardSettings {
  percent: number;
  /** A deletegroup of a group with more contacts than this (remote or synced) is held. */
  groupMin: number;
  /** This many deletes per window never trip the percentage rule (tiny groups stay usable). */
  floor: number;
  windowMs: number;
  /**
   * Member deletes beyond this share of a group within 24 hours are held, so a slow wipe that
   * stays under `percent` per window still stops. Absent: no daily limit.
   */
  dayPercent?: number;
}

/** The span of the daily limit. */
export const DAY_MS = 86_400_000;

/** What member-delete arithmetic needs: unapproved deletes already made in each span. */
export interface MemberDeleteCounts {
  count: number;
  synced: number;
  inWindow: number;
  inDay: number;
}

const over = (deletes: number, base: number, percent: number, floor: number) =>
  deletes > floor && deletes * 100 > base * percent;

/**
 * Why `count` member deletes must wait for an operator, or null when they may go ahead. Each
 * span's base is the group as it was at the span's start (synced now plus deleted since).
 */
export function memberDeletesHeld(s: DeleteGuardSettings, c: MemberDeleteCounts): string | null {
  const windowDeletes = c.inWindow + c.count;
  const windowBase = c.synced + c.inWindow;
  if (over(windowDeletes, windowBase, s.percent, s.floor)) {
    return (
      `${windowDeletes} of ${windowBase} synced contacts would be deleted within the guard ` +
      `window (limit ${s.percent}%)`
    );
  }
  if (s.dayPercent === undefined) return null;
  const dayDeletes = c.inDay + c.count;
  const dayBase = c.synced + c.inDay;
  if (over(dayDeletes, dayBase, s.dayPercent, s.floor)) {
    return (
      `${dayDeletes} of ${dayBase} synced contacts would be deleted within 24 hours ` +
      `(limit ${s.dayPercent}% a day)`
    );
  }
  return null;
}

/** A remote column about to be deleted, with what is known of its values. */
export interface ColumnDelete {
  field: string;
  /** Contacts holding a value in it. */
  values: number;
  /** Synced contacts of the group: the base of the percentage rule. */
  synced: number;
  /**
   * A column the database never named (found by a link or a resync): any value in it is data
   * only Afilnet has, so even one is held.
   */
  remoteOnly: boolean;
}

/** Why deleting a column (and its values) must wait for an operator, or null. */
export function columnDeleteHeld(s: DeleteGuardSettings, c: ColumnDelete): string | null {
  if (c.values === 0) return null;
  const what = `column "${c.field}" holds ${c.values} values`;
  if (c.remoteOnly) {
    return `${what} the database never had; deleting it waits for approve-deletes`;
  }
  if (!over(c.values, c.synced, s.percent, s.floor)) return null;
  return (
    `${what} (of ${c.synced} synced contacts, limit ${s.percent}%); ` +
    `removing the field deletes them: approve with approve-deletes`
  );
}

/** Why deleting a remote group holding `contacts` must wait, or null. */
export function groupDeleteHeld(s: DeleteGuardSettings, contacts: number): string | null {
  if (contacts <= s.groupMin) return null;
  return `the group holds ${contacts} contacts (more than ${s.groupMin})`;
}
