/**
 * The model-based test's model: plain data of what the database says (groups, contacts,
 * members) plus what the test did to the remote side and to the daemon, and the projection of a
 * member onto its group's remote fields — written here from README's "The database contract",
 * not taken from the daemon.
 */
export type Main = 'mobile' | 'email';
export type Mode = 'normal' | 'strict';
export const ATTRIBUTES = ['name', 'city'] as const;
export type Attribute = (typeof ATTRIBUTES)[number];
export type Field = Main | Attribute;

/** A remote contact the database knows nothing of (there before a link, or planted). */
export interface ForeignContact {
  main: string;
  fields: Record<string, string>;
}

export interface ModelGroup {
  type: Main;
  fields: string[];
  /** Name of the remote group this row was linked to at insert (afilnet_id set), else null. */
  linkedName: string | null;
  foreign: ForeignContact[];
  /** Remote columns the database does not have that hold values (panel, or there at link). */
  valuedColumns: string[];
  /** Every main value a member of this incarnation of the group has had. */
  everMains: string[];
}

export interface ModelContact {
  mobile: string | null;
  email: string | null;
  attributes: Partial<Record<Attribute, string>>;
}

/** A group row deleted during the sequence, as the remote side should see it afterwards. */
export interface DeletedGroup {
  id: string;
  remoteId: string | null;
  /** Remote contacts that carried data when the row was deleted (members and foreign ones). */
  remoteContacts: number;
  /**
   * The daemon had taken the link up (sync_group_state names the remote group). A row linked and
   * deleted before that leaves the remote group alone: the daemon never touched it, and deleting
   * a group it never synced would destroy data it does not know.
   */
  linkSynced: boolean;
}

export interface Model {
  mode: Mode;
  groups: Record<string, ModelGroup>;
  contacts: Record<string, ModelContact>;
  /** group id → contact ids */
  members: Record<string, string[]>;
  deletedGroups: DeletedGroup[];
  /** Groups the test approved deletes for. */
  approvals: string[];
  /** Remote edits were made: the check needs a resync first. */
  drift: boolean;
  /** A resync ran: remote contacts the database does not know may be gone (an operator's call). */
  resynced: boolean;
  passwordWrong: boolean;
  faultsOn: boolean;
  daemonUp: boolean;
}

export function emptyModel(mode: Mode): Model {
  return {
    mode,
    groups: {},
    contacts: {},
    members: {},
    deletedGroups: [],
    approvals: [],
    drift: false,
    resynced: false,
    passwordWrong: false,
    faultsOn: false,
    daemonUp: true,
  };
}

/** A contact's value for a group field: mobile/email columns, else the attribute; '' = none. */
export function valueOf(c: ModelContact, field: string): string {
  if (field === 'mobile') return c.mobile ?? '';
  if (field === 'email') return c.email ?? '';
  return c.attributes[field as Attribute] ?? '';
}

/** What the remote contact of `c` in `g` should hold, for every field of the group. */
export function project(c: ModelContact, g: ModelGroup): Record<string, string> {
  const columns = [...new Set([g.type, ...g.fields])];
  return Object.fromEntries(columns.map((f) => [f, valueOf(c, f)]));
}

export type BadKind = 'no_main' | 'too_long' | 'duplicate' | 'unencodable';

/** Why the provider cannot take this member as it is (empty when it can). */
export function badKinds(
  values: Record<string, string>,
  main: Main,
  duplicated: boolean,
  maxFieldLength: number,
): BadKind[] {
  const kinds: BadKind[] = [];
  if (!values[main]) kinds.push('no_main');
  if (Object.values(values).some((v) => v.length > maxFieldLength)) kinds.push('too_long');
  if (duplicated) kinds.push('duplicate');
  if (Object.values(values).some((v) => /[,:\r\n]/.test(v))) kinds.push('unencodable');
  return kinds;
}

/** Main values of a group's current members (non-empty). */
export function memberMains(m: Model, groupId: string): string[] {
  const g = m.groups[groupId];
  if (!g) return [];
  return (m.members[groupId] ?? []).flatMap((cid) => {
    const c = m.contacts[cid];
    const v = c ? valueOf(c, g.type) : '';
    return v ? [v] : [];
  });
}

/** Records the current members' main values in each group's history (after every command). */
export function noteMains(m: Model): void {
  for (const [id, g] of Object.entries(m.groups)) {
    for (const v of memberMains(m, id)) if (!g.everMains.includes(v)) g.everMains.push(v);
  }
}

/** Foreign contacts no member ever claimed (by main value): nothing may destroy them unasked. */
export function unclaimedForeign(g: ModelGroup): ForeignContact[] {
  return g.foreign.filter((f) => !g.everMains.includes(f.main));
}
