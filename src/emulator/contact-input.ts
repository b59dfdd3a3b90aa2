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

/**
 * Reads addcontactlist's `contacts`: a JSON array of objects whose values are strings or finite
 * numbers (numbers are kept as their JSON text, e.g. 34600000000 → "34600000000"). Anything
 * else — bad JSON, not an array, an entry that is not an object, a nested or boolean value —
 * is not the parameter the page describes: MISSING_COMPULSORY_PARAM. `null` counts as absent.
 */
export function parseContactList(text: string): Map<string, string>[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ApiError('MISSING_COMPULSORY_PARAM');
  }
  if (!Array.isArray(parsed)) throw new ApiError('MISSING_COMPULSORY_PARAM');
  return parsed.map((entry: unknown) => {
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      throw new ApiError('MISSING_COMPULSORY_PARAM');
    }
    const values = new Map<string, string>();
    for (const [key, value] of Object.entries(entry)) {
      if (value === null) continue;
      if (typeof value === 'string') values.set(key.trim(), value);
      else if (typeof value === 'number' && Number.isFinite(value)) {
        values.set(key.trim(), String(value));
      } else throw new ApiError('MISSING_COMPULSORY_PARAM');
    }
    return values;
  });
}
