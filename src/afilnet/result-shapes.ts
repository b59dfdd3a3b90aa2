import { z } from 'zod';

// The provider's answers are loosely specified (the provider's page leaves the result shapes open): ids arrive as
// JSON numbers or numeric strings, contacts nested or flat. These readers accept every shape seen
// or plausible and return `undefined` for anything else, so the caller names the failure.

/** A contact as the client hands it out: ids are always strings. */
export interface RemoteContact {
  idcontact: string;
  fields: Record<string, string>;
}

/** What `addcontactlist` reports; `added` is null when the answer carried no ids. */
export interface ContactListResult {
  added: { idcontact: string; main: string | null }[] | null;
  skipped: { index: number; reason: string; idcontact: string | null }[];
}

// Unsafe integers are refused: a rounded id would silently address another contact.
const idSchema = z
  .union([z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER), z.string().regex(/^\d+$/)])
  .transform(String);

// Keys that hold ids in a flat contact, not columns of the group.
const ID_KEYS = new Set(['idcontact', 'id', 'idgroup']);

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function readId(value: unknown): string | undefined {
  const parsed = idSchema.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}

/**
 * The id a create returned, or null when it returned none we recognise. Never fails: the create
 * was applied (status SUCCESS), and failing now would invite a duplicate on retry; the caller
 * finds the thing again by its main field instead.
 */
export function readCreatedId(result: unknown, key: 'idgroup' | 'idcontact'): string | null {
  if (isObject(result)) return readId(result[key]) ?? readId(result.id) ?? null;
  return readId(result) ?? null;
}

/** Why a contact in a `getcontacts` answer could not be read. */
export type UnreadableReason =
  | 'not_an_object'
  | 'no_id'
  | 'fields_not_an_object'
  /** One or more fields hold an object, an array or a number JSON cannot carry exactly. */
  | 'unreadable_value';

/** A contact left out of a `getcontacts` stream, as reported to `onUnreadable`. */
export interface UnreadableContact {
  /** Its position in the answer's result array (0-based). */
  index: number;
  /** Its id when one could be read: the sync can then keep its hands off it. */
  idcontact: string | null;
  reason: UnreadableReason;
  /** The names of the fields that could not be read (`unreadable_value` only). */
  badFields: string[];
  /**
   * The fields that could be read, so the contact can still be matched by its main value.
   * Personal data: never log it whole.
   */
  fields: Record<string, string>;
}

/** One element of a contacts answer, read: the contact, or why it is unreadable. */
export type ContactReading =
  { contact: RemoteContact } | { unreadable: Omit<UnreadableContact, 'index'> };

/**
 * A field value as text. A loosely typed backend may send a number (kept as JavaScript writes
 * it: 34600000000 → "34600000000", 41.5 → "41.5"), a boolean ("true"/"false", as PHP's
 * json_encode writes them) or null (an empty field, as the provider shows unset ones). Objects
 * and arrays have no sensible text; undefined says so. JSON numbers are read as doubles, so one
 * beyond 2^53 has lost digits before it gets here; phone numbers (E.164, at most 15 digits) are
 * exact.
 */
export function fieldText(value: unknown): string | undefined {
  switch (typeof value) {
    case 'string':
      return value;
    case 'number':
      // A JSON number beyond double range parses to ±Infinity: its digits are lost.
      return Number.isFinite(value) ? String(value) : undefined;
    case 'boolean':
      return value ? 'true' : 'false';
    default:
      return value === null ? '' : undefined;
  }
}

/**
 * Reads a contact, nested (`{idcontact, fields}`) or flat (`{idcontact, mobile, …}`), saying why
 * when it cannot: the caller decides whether one bad contact fails the call (`getcontact`) or is
 * skipped and reported (`getcontacts`, where one must not stall a whole group).
 */
export function readContactEntry(value: unknown): ContactReading {
  const none = { idcontact: null, badFields: [], fields: {} };
  if (!isObject(value)) return { unreadable: { ...none, reason: 'not_an_object' } };
  const idcontact = readId(value.idcontact) ?? readId(value.id);
  if (idcontact === undefined) return { unreadable: { ...none, reason: 'no_id' } };
  let source: unknown = value.fields;
  if (source === undefined) {
    source = Object.fromEntries(Object.entries(value).filter(([k]) => !ID_KEYS.has(k)));
  }
  if (!isObject(source)) {
    return { unreadable: { ...none, idcontact, reason: 'fields_not_an_object' } };
  }
  const entries: [string, string][] = [];
  const badFields: string[] = [];
  for (const [name, raw] of Object.entries(source)) {
    const text = fieldText(raw);
    if (text === undefined) badFields.push(name);
    else entries.push([name, text]);
  }
  // fromEntries defines own properties, so a column named "__proto__" stays a field.
  const fields = Object.fromEntries(entries);
  if (badFields.length > 0) {
    return { unreadable: { idcontact, reason: 'unreadable_value', badFields, fields } };
  }
  return { contact: { idcontact, fields } };
}

/** A contact, or `undefined` when it cannot be read (see `readContactEntry` for why). */
export function readContact(value: unknown): RemoteContact | undefined {
  const reading = readContactEntry(value);
  return 'contact' in reading ? reading.contact : undefined;
}

const columnsSchema = z.union([
  z.array(z.string()),
  // A comma-separated string is how the provider takes columns; accept it back the same way.
  z.string().transform((s) =>
    s
      .split(',')
      .map((c) => c.trim())
      .filter((c) => c !== ''),
  ),
]);

/** A group's column names. */
export function readColumns(result: unknown): string[] | undefined {
  const parsed = columnsSchema.safeParse(result);
  return parsed.success ? parsed.data : undefined;
}

const mainSchema = z.union([z.string(), z.number().transform(String), z.null()]);
const addedSchema = z.array(
  z.looseObject({
    idcontact: z.unknown().optional(),
    id: z.unknown().optional(),
    main: mainSchema.optional(),
  }),
);
const skippedSchema = z.array(
  z.looseObject({
    index: z.union([z.number().int().nonnegative(), z.string().regex(/^\d+$/).transform(Number)]),
    reason: z.string(),
    idcontact: z.unknown().optional(),
    id: z.unknown().optional(),
  }),
);
const listSchema = z.looseObject({
  added: addedSchema.optional(),
  skipped: skippedSchema.optional(),
});

/**
 * `addcontactlist`'s report. An answer without a report (strict-docs mode, a bare count) gives
 * `added: null`, and the caller reconciles through `getcontacts`; a report we cannot read is
 * `undefined`, because misreading which contacts were skipped would lose them silently.
 */
export function readContactListResult(result: unknown): ContactListResult | undefined {
  if (!isObject(result) || (!('added' in result) && !('skipped' in result))) {
    return { added: null, skipped: [] };
  }
  const parsed = listSchema.safeParse(result);
  if (!parsed.success) return undefined;
  const skipped = (parsed.data.skipped ?? []).map((s) => ({
    index: s.index,
    reason: s.reason,
    idcontact: readId(s.idcontact) ?? readId(s.id) ?? null,
  }));
  const added: { idcontact: string; main: string | null }[] = [];
  for (const entry of parsed.data.added ?? []) {
    const idcontact = readId(entry.idcontact) ?? readId(entry.id);
    // One entry without an id makes the whole list unusable for matching: say "no ids".
    if (idcontact === undefined) return { added: null, skipped };
    added.push({ idcontact, main: entry.main ?? null });
  }
  return { added: parsed.data.added === undefined ? null : added, skipped };
}
