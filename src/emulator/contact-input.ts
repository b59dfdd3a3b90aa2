import { ApiError } from './api-error.ts';

/**
 * Reads the page's `field:value,field:value` form. Split on ',' and then on the first ':' only,
 * so a value may hold ':' but never ','. Field names are trimmed (as creategroup trims them);
 * values are kept exactly as sent. A piece without ':' or with an empty name says nothing and is
 * skipped; a field named twice keeps its last value.
 */
export function parseFieldValues(text: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const piece of text.split(',')) {
    const colon = piece.indexOf(':');
    if (colon < 0) continue;
    const field = piece.slice(0, colon).trim();
    if (field !== '') values.set(field, piece.slice(colon + 1));
  }
  return values;
}

/** One addcontactlist entry as parsed: its values are strings, finite numbers or null. */
export type ContactEntry = Readonly<Record<string, string | number | null>>;

/**
 * Reads addcontactlist's `contacts`: a JSON array of objects whose values are strings, finite
 * numbers or null. Anything else — bad JSON, not an array, an entry that is not an object, a
 * nested or boolean value — is not the parameter the page describes: MISSING_COMPULSORY_PARAM.
 * Entries stay the parsed objects (no copy each), read through `entryValue`.
 */
export function parseContactList(text: string): ContactEntry[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ApiError('MISSING_COMPULSORY_PARAM');
  }
  if (!Array.isArray(parsed) || !parsed.every(isContactEntry)) {
    throw new ApiError('MISSING_COMPULSORY_PARAM');
  }
  return parsed;
}

function isContactEntry(entry: unknown): entry is ContactEntry {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) return false;
  for (const value of Object.values(entry)) {
    if (value === null || typeof value === 'string') continue;
    if (typeof value !== 'number' || !Number.isFinite(value)) return false;
  }
  return true;
}

/**
 * One field of an entry as text: keys are taken exactly as written (JSON can say anything, so
 * nothing is trimmed), a number becomes its JSON text (34600000000 → "34600000000"), null counts
 * as absent. Own keys only, so a field named "constructor" is not found on Object.prototype.
 */
export function entryValue(entry: ContactEntry, field: string): string | undefined {
  if (!Object.hasOwn(entry, field)) return undefined;
  const value = entry[field];
  return value === null || value === undefined ? undefined : String(value);
}
