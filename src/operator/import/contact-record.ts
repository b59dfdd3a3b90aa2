/** Values longer than this are refused: no Afilnet field or sensible CRM value is that long. */
export const MAX_VALUE_LENGTH = 1_000;

const MOBILE = /^\+?\d{6,15}$/;
// Deliberately loose: one @, no spaces, a dot in the domain. Afilnet decides the rest.
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
// jsonb refuses unpaired surrogates (JSON.parse allows them); with /u only unpaired ones match.
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/**
 * One row of an import file as read, before checks. `undefined` means the file has no such
 * column or key (the stored value is kept); null or '' means empty (the stored value is cleared).
 */
export interface ContactInput {
  id: unknown;
  mobile: unknown;
  email: unknown;
  /** In file order; a later entry for the same name wins. */
  attributes: [string, unknown][];
}

/** A row that passed the checks, ready for staging. */
export interface ContactRecord {
  id: string;
  mobile: string | null;
  email: string | null;
  hasMobile: boolean;
  hasEmail: boolean;
  /** Attributes set by this row. */
  attributes: Record<string, string | number | boolean>;
  /** Attributes this row empties: removed from the stored ones. */
  unset: string[];
}

export type CheckedContact = { ok: true; record: ContactRecord } | { ok: false; reason: string };

class Rejected extends Error {}
const reject = (reason: string): never => {
  throw new Rejected(reason);
};

function text(name: string, value: string): string {
  if (value.length > MAX_VALUE_LENGTH)
    reject(`${name}: longer than ${MAX_VALUE_LENGTH} characters`);
  // Postgres text cannot hold NUL at all.
  if (value.includes('\u0000') || LONE_SURROGATE.test(value)) {
    reject(`${name}: contains a NUL character or invalid Unicode`);
  }
  return value;
}

function checkId(value: unknown): string {
  if (value === undefined || value === null) return reject('missing id');
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
  if (typeof value !== 'string') return reject('id: must be a string');
  const id = text('id', value.trim());
  return id === '' ? reject('missing id') : id;
}

function checkMain(
  name: 'mobile' | 'email',
  value: unknown,
): { has: boolean; value: string | null } {
  if (value === undefined) return { has: false, value: null };
  if (value === null) return { has: true, value: null };
  let s: string;
  if (name === 'mobile' && typeof value === 'number' && Number.isSafeInteger(value) && value > 0) {
    s = String(value);
  } else if (typeof value === 'string') {
    s = text(name, value).trim();
  } else {
    return reject(`${name}: must be a string`);
  }
  if (s === '') return { has: true, value: null };
  if (name === 'mobile' && !MOBILE.test(s)) {
    reject('mobile: not 6 to 15 digits with an optional leading +');
  }
  if (name === 'email' && !EMAIL.test(s)) reject('email: does not look like an e-mail address');
  return { has: true, value: s };
}

function checkAttributes(
  entries: [string, unknown][],
): Pick<ContactRecord, 'attributes' | 'unset'> {
  const attributes: Record<string, string | number | boolean> = {};
  const unset: string[] = [];
  for (const [name, value] of entries) {
    if (name.trim() === '') reject('attribute with an empty name');
    text(`attribute name "${name.slice(0, 40)}"`, name);
    let kept: string | number | boolean | null;
    if (value === null || value === '') kept = null;
    else if (typeof value === 'string') kept = text(name, value);
    else if (typeof value === 'boolean') kept = value;
    else if (typeof value === 'number' && Number.isFinite(value)) kept = value;
    else return reject(`${name}: must be a string, number, boolean or null`);
    // A later entry for the same name wins (NDJSON: a top-level key over `attributes`).
    if (kept === null) {
      delete attributes[name];
      if (!unset.includes(name)) unset.push(name);
    } else {
      // A column named "__proto__" must stay a plain attribute, not replace the prototype.
      if (name === '__proto__') {
        Object.defineProperty(attributes, name, {
          value: kept,
          enumerable: true,
          writable: true,
          configurable: true,
        });
      } else attributes[name] = kept;
      if (unset.length > 0 && unset.includes(name)) unset.splice(unset.indexOf(name), 1);
    }
  }
  return { attributes, unset };
}

/**
 * Checks one row: an id is required; mobile is 6–15 digits with an optional leading +; email
 * looks like an address; attribute values are scalars; nothing is longer than MAX_VALUE_LENGTH.
 * An empty attribute value unsets the attribute: the planner treats "" and absent alike.
 */
export function checkContact(input: ContactInput): CheckedContact {
  try {
    const id = checkId(input.id);
    const mobile = checkMain('mobile', input.mobile);
    const email = checkMain('email', input.email);
    return {
      ok: true,
      record: {
        id,
        mobile: mobile.value,
        email: email.value,
        hasMobile: mobile.has,
        hasEmail: email.has,
        ...checkAttributes(input.attributes),
      },
    };
  } catch (err) {
    if (err instanceof Rejected) return { ok: false, reason: err.message };
    throw err;
  }
}
