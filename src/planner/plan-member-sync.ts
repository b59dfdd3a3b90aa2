import {
  changedFields,
  mainFieldOf,
  projectFields,
  type ContactValues,
  type FieldValues,
  type GroupShape,
} from './project-fields.ts';

/** One member of a group as the worker read it: the wish (contact) and the memory (state). */
export interface MemberSnapshot {
  contactId: string;
  /** Null when the contact is no longer a member (or no longer exists). */
  contact: ContactValues | null;
  remoteId: string | null;
  /** What was last confirmed remotely; null when the member is not known to be there. */
  syncedFields: FieldValues | null;
  /** The main value last sent (or known at a link), kept even when syncedFields is not. */
  mainValue?: string | null;
  /** An add may have reached the provider without our knowing (ambiguous answer or crash). */
  uncertain: boolean;
  /**
   * Removed in Afilnet and recorded as opted out (REMOTE_REMOVALS=respect): never sent again
   * until an operator clears it.
   */
  optedOut?: boolean;
}

export type MemberOp =
  | { kind: 'none'; contactId: string; forget: boolean }
  | { kind: 'add'; contactId: string; fields: FieldValues; main: string }
  | {
      kind: 'resolve';
      contactId: string;
      fields: FieldValues;
      main: string;
      /** The remote contact it may already have, and the main value it was last sent with. */
      remoteId: string | null;
      previousMain: string | null;
    }
  | {
      kind: 'modify';
      contactId: string;
      remoteId: string | null;
      main: string;
      previousMain: string | null;
      fields: FieldValues;
      changed: FieldValues;
    }
  | { kind: 'delete'; contactId: string; remoteId: string | null; main: string | null }
  | {
      kind: 'invalid';
      contactId: string;
      code: InvalidCode;
      reason: string;
      /**
       * A member whose main value was emptied while its remote copy still carries the old one:
       * that copy is deleted (through the guard), so the number reaches no one by mistake and
       * another member can take it.
       */
      staleCopy?: { remoteId: string | null; main: string | null };
    };

export type InvalidCode = 'MISSING_MAIN_FIELD' | 'VALUE_TOO_LONG' | 'UNENCODABLE_VALUE';

export interface PlanLimits {
  maxFieldLength: number;
}

const UNENCODABLE = /[,:\r\n]/;

/** Why a projection cannot be sent at all, or null when it can. */
function rejectProjection(
  group: GroupShape,
  fields: FieldValues,
  limits: PlanLimits,
): { code: InvalidCode; reason: string } | null {
  const main = mainFieldOf(group.type);
  if (!fields[main]) {
    return {
      code: 'MISSING_MAIN_FIELD',
      reason: `contact has no ${main}, the main field of this ${group.type} group`,
    };
  }
  for (const [field, value] of Object.entries(fields)) {
    if (value.length > limits.maxFieldLength) {
      return {
        code: 'VALUE_TOO_LONG',
        reason: `field "${field}" is ${value.length} characters long (limit ${limits.maxFieldLength})`,
      };
    }
  }
  return null;
}

/**
 * Decides the one call (or none) that brings a member's remote copy to what the database says.
 * Pure: the same snapshot always gives the same operation.
 */
export function planMemberSync(
  group: GroupShape,
  member: MemberSnapshot,
  limits: PlanLimits,
): MemberOp {
  const { contactId } = member;
  const main = mainFieldOf(group.type);
  const knownRemotely = member.syncedFields !== null || member.remoteId !== null;
  if (member.contact === null) {
    if (!knownRemotely && !member.uncertain) return { kind: 'none', contactId, forget: true };
    return {
      kind: 'delete',
      contactId,
      remoteId: member.remoteId,
      main: member.syncedFields?.[main] ?? member.mainValue ?? null,
    };
  }
  // Consent given back in Afilnet outranks the database: nothing is sent, the mark is done.
  if (member.optedOut === true) return { kind: 'none', contactId, forget: false };
  const fields = projectFields(group, member.contact);
  const rejected = rejectProjection(group, fields, limits);
  if (rejected) {
    const previous = member.syncedFields?.[main] ?? member.mainValue ?? null;
    if (rejected.code === 'MISSING_MAIN_FIELD' && (knownRemotely || member.uncertain)) {
      return {
        kind: 'invalid',
        contactId,
        ...rejected,
        staleCopy: { remoteId: member.remoteId, main: previous },
      };
    }
    return { kind: 'invalid', contactId, ...rejected };
  }
  const mainValue = fields[main] as string;
  if (member.uncertain) {
    return {
      kind: 'resolve',
      contactId,
      fields,
      main: mainValue,
      remoteId: member.remoteId,
      previousMain: member.syncedFields?.[main] ?? member.mainValue ?? null,
    };
  }
  if (member.syncedFields === null) return { kind: 'add', contactId, fields, main: mainValue };
  // Columns outside the shape (being removed, or not yet added remotely) are not this call's business.
  const syncedInShape = Object.fromEntries(
    Object.entries(member.syncedFields).filter(([f]) => f === main || group.fields.includes(f)),
  );
  const changed = changedFields(syncedInShape, fields);
  if (Object.keys(changed).length === 0) return { kind: 'none', contactId, forget: false };
  const bad = Object.entries(changed).find(([, value]) => UNENCODABLE.test(value));
  if (bad) {
    return {
      kind: 'invalid',
      contactId,
      code: 'UNENCODABLE_VALUE',
      reason: `field "${bad[0]}" holds ",", ":" or a line break, which modifycontact's field:value form cannot carry`,
    };
  }
  return {
    kind: 'modify',
    contactId,
    remoteId: member.remoteId,
    main: mainValue,
    previousMain: member.syncedFields[main] ?? null,
    fields,
    changed,
  };
}
