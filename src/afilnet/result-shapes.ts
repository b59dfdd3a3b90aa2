import { z } from 'zod';

// The provider's answers are loosely specified (shared/afilnet-contacts-api.md): ids arrive as
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

// A loose PHP backend may send a numeric column as a number, or null for an empty one.
const fieldValueSchema = z.union([
  z.string(),
  z.number().transform(String),
  z.null().transform(() => ''),
]);
const fieldsSchema = z.record(z.string(), fieldValueSchema);

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

/** A contact, nested (`{idcontact, fields}`) or flat (`{idcontact, mobile, …}`). */
export function readContact(value: unknown): RemoteContact | undefined {
  if (!isObject(value)) return undefined;
  const idcontact = readId(value.idcontact) ?? readId(value.id);
  if (idcontact === undefined) return undefined;
  let source: unknown = value.fields;
  if (source === undefined) {
    source = Object.fromEntries(Object.entries(value).filter(([k]) => !ID_KEYS.has(k)));
  }
  const fields = fieldsSchema.safeParse(source);
  return fields.success ? { idcontact, fields: fields.data } : undefined;
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
