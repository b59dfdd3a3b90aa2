/** The remote shape of a group, as the planner needs it. */
export interface GroupShape {
  type: 'mobile' | 'email';
  fields: readonly string[];
}

/** A contact's columns as read from `contacts`. */
export interface ContactValues {
  mobile: string | null;
  email: string | null;
  attributes: unknown;
}

export type FieldValues = Record<string, string>;

export const mainFieldOf = (type: GroupShape['type']): 'mobile' | 'email' => type;

/** Postgres' `->>` on a jsonb object member: strings as they are, other values as JSON text. */
function attributeText(attributes: unknown, field: string): string | null {
  if (attributes === null || typeof attributes !== 'object' || Array.isArray(attributes)) {
    return null;
  }
  const value = (attributes as Record<string, unknown>)[field];
  if (value === undefined || value === null) return null;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/**
 * The values a group should hold for a contact: `mobile`/`email` from their columns, any other
 * field from `attributes->>field`. Empty values are left out, so "absent" and "" compare equal.
 * The main field is always projected, even if `fields` forgot it.
 */
export function projectFields(group: GroupShape, contact: ContactValues): FieldValues {
  const out: FieldValues = {};
  const names = new Set([mainFieldOf(group.type), ...group.fields]);
  for (const field of names) {
    const value =
      field === 'mobile'
        ? contact.mobile
        : field === 'email'
          ? contact.email
          : attributeText(contact.attributes, field);
    if (value !== null && value !== '') out[field] = value;
  }
  return out;
}

/** Fields whose value differs between two projections (a field gone counts, with value ''). */
export function changedFields(from: FieldValues, to: FieldValues): FieldValues {
  const changed: FieldValues = {};
  for (const [field, value] of Object.entries(to)) {
    if (from[field] !== value) changed[field] = value;
  }
  for (const field of Object.keys(from)) {
    if (!(field in to)) changed[field] = '';
  }
  return changed;
}
