import type pg from 'pg';

/**
 * The fewest calls any correct sync could make for a change between two database states, worked
 * out here on its own (not with the daemon's planner, so a planner bug cannot lower the bar).
 */

/** Per group: contact id → what the group should hold (null when no call can carry it). */
export type MemberSnapshot = Map<string, Map<string, Fields | null>>;
type Fields = Record<string, string>;

const MAX_FIELD_LENGTH = 255; // the daemon's MAX_FIELD_LENGTH default

/** Reads every membership's projection: mobile/email columns, other fields from attributes. */
export async function snapshotMembers(db: pg.Pool): Promise<MemberSnapshot> {
  const res = await db.query<{
    group_id: string;
    type: 'mobile' | 'email';
    fields: string[];
    contact_id: string;
    mobile: string | null;
    email: string | null;
    attributes: Record<string, unknown>;
  }>(
    `SELECT g.id AS group_id, g.type, g.fields, c.id AS contact_id, c.mobile, c.email, c.attributes
     FROM group_members gm JOIN groups g ON g.id = gm.group_id JOIN contacts c ON c.id = gm.contact_id`,
  );
  const snapshot: MemberSnapshot = new Map();
  for (const r of res.rows) {
    const fields: Record<string, string> = {};
    for (const f of new Set([r.type, ...r.fields])) {
      const raw = f === 'mobile' ? r.mobile : f === 'email' ? r.email : r.attributes[f];
      // As Postgres' ->> reads a jsonb member: strings as they are, anything else as JSON.
      const value =
        raw === null || raw === undefined
          ? ''
          : typeof raw === 'string'
            ? raw
            : JSON.stringify(raw);
      if (value !== '') fields[f] = value;
    }
    const sendable =
      fields[r.type] !== undefined &&
      Object.values(fields).every((v) => v.length <= MAX_FIELD_LENGTH);
    let group = snapshot.get(r.group_id);
    if (!group) snapshot.set(r.group_id, (group = new Map<string, Fields | null>()));
    group.set(r.contact_id, sendable ? fields : null);
  }
  return snapshot;
}

export interface LowerBound {
  addCalls: number;
  adds: number;
  modifies: number;
  deletes: number;
  /** Members whose change no call can carry (bad records): 0 calls. */
  unsendable: number;
  total: number;
}

/** modifycontact's `field:value,…` form cannot carry these characters. */
const UNENCODABLE = /[,:\r\n]/;

/**
 * Calls needed to go from `before` (what is synced) to `after`: ⌈adds ÷ batch⌉ per group, one
 * modify per member whose projection changed (once, however often it changed), one delete per
 * synced member that left. Id look-ups are added by the caller (they depend on the provider).
 */
export function lowerBound(
  before: MemberSnapshot,
  after: MemberSnapshot,
  batch: number,
): LowerBound {
  const bound: LowerBound = {
    addCalls: 0,
    adds: 0,
    modifies: 0,
    deletes: 0,
    unsendable: 0,
    total: 0,
  };
  for (const groupId of new Set([...before.keys(), ...after.keys()])) {
    const was = before.get(groupId) ?? new Map<string, Fields | null>();
    const now = after.get(groupId) ?? new Map<string, Fields | null>();
    let adds = 0;
    for (const [contactId, fields] of now) {
      const old = was.get(contactId) ?? null;
      if (fields === null) {
        // Counted when it turns bad here, not again for a bad record the phase did not touch.
        if (!(was.has(contactId) && old === null)) bound.unsendable += 1;
        continue;
      }
      if (old === null) {
        adds += 1;
        continue;
      }
      const changed = Object.keys({ ...old, ...fields }).filter((f) => old[f] !== fields[f]);
      if (changed.length === 0) continue;
      if (changed.some((f) => UNENCODABLE.test(fields[f] ?? ''))) bound.unsendable += 1;
      else bound.modifies += 1;
    }
    for (const [contactId, fields] of was) {
      if (fields !== null && !now.has(contactId)) bound.deletes += 1;
    }
    bound.adds += adds;
    bound.addCalls += Math.ceil(adds / batch);
  }
  bound.total = bound.addCalls + bound.modifies + bound.deletes;
  return bound;
}

/** The sum of two phases' bounds. */
export function addBounds(a: LowerBound, b: LowerBound): LowerBound {
  return {
    addCalls: a.addCalls + b.addCalls,
    adds: a.adds + b.adds,
    modifies: a.modifies + b.modifies,
    deletes: a.deletes + b.deletes,
    unsendable: a.unsendable + b.unsendable,
    total: a.total + b.total,
  };
}
