import { changedFields, type FieldValues } from './project-fields.ts';

/** A remote contact as a look-up found it: its values over the group's columns, empty = absent. */
export interface RemoteRow {
  idcontact: string;
  fields: FieldValues;
}

/**
 * What a look-up found for one member: the remote contact with the id it may have, and those
 * holding its main value now or when it was last sent. Contacts other members own are left out.
 */
export interface LookupMatches {
  byId: RemoteRow | null;
  byMain: readonly RemoteRow[];
  byPrevious: readonly RemoteRow[];
  /** Another member of the group owns a remote contact holding the main value. */
  heldByMember: string | null;
}

/** A member whose remote copy must be found before its call can be chosen. */
export type LookupNeed =
  /** It should be remote with `fields` (an add of unknown outcome, a modify without an id). */
  | { kind: 'present'; fields: FieldValues; main: string; previousMain: string | null }
  /** It should be gone; `main` is the value it was sent with, if known. */
  | { kind: 'absent'; main: string | null };

export type Settlement =
  /** The remote copy already says what it should: record it, no call. */
  | { kind: 'adopt'; remoteId: string }
  | { kind: 'modify'; remoteId: string; changed: FieldValues }
  | { kind: 'add' }
  /**
   * Another remote contact holds the member's main value while its own copy has an old one: the
   * holder becomes the member's copy (modified if needed), and the old copy is deleted.
   */
  | { kind: 'replace'; remoteId: string; changed: FieldValues; drop: string }
  | { kind: 'delete'; remoteId: string }
  /** Nothing remote to delete: forget the member. */
  | { kind: 'forget' }
  /** Another member's remote copy holds the value: the mark waits for it to move. */
  | { kind: 'wait'; holder: string };

/**
 * After a look-up, decides the call that brings one member's remote copy to what the database
 * says: adopt, modify, add, replace, delete or forget. Pure. By id first, then by the main value
 * now, then by the main value it was last sent with (an add of unknown outcome followed by a
 * change of number must not leave a stray); where several contacts hold one value (a provider
 * that took duplicates), the first found is used.
 */
export function settleMember(need: LookupNeed, found: LookupMatches): Settlement {
  if (need.kind === 'absent') {
    const target = found.byId ?? found.byMain[0];
    return target ? { kind: 'delete', remoteId: target.idcontact } : { kind: 'forget' };
  }
  if (found.heldByMember !== null) return { kind: 'wait', holder: found.heldByMember };
  const mine = found.byId ?? found.byPrevious[0] ?? null;
  // Where the provider took duplicates, the member's own copy among them is the holder.
  const holder =
    (mine && found.byMain.find((r) => r.idcontact === mine.idcontact)) ?? found.byMain[0];
  const own = mine ?? holder;
  if (!own) return { kind: 'add' };
  const changedFrom = (remote: RemoteRow) => changedFields(remote.fields, need.fields);
  if (holder && holder.idcontact !== own.idcontact) {
    return {
      kind: 'replace',
      remoteId: holder.idcontact,
      changed: changedFrom(holder),
      drop: own.idcontact,
    };
  }
  const changed = changedFrom(own);
  return Object.keys(changed).length === 0
    ? { kind: 'adopt', remoteId: own.idcontact }
    : { kind: 'modify', remoteId: own.idcontact, changed };
}
