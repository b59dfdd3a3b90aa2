/**
 * The checker's own model of what a remote contact should hold, written independently of the
 * daemon's planner so that a bug there cannot hide itself here.
 */
export type Main = 'mobile' | 'email';
export type BadKind = 'no_main' | 'too_long' | 'duplicate' | 'unencodable';

export interface MemberRow {
  group_id: string;
  contact_id: string;
  mobile: string | null;
  email: string | null;
  attributes: Record<string, unknown> | null;
  status: string | null;
  last_error: string | null;
  remote_id: string | null;
  last_method: string | null;
  last_result: string | null;
}

/** Codes the daemon records for input the provider cannot take (not for a failed call). */
export const BAD_INPUT_CODES = [
  'MISSING_MAIN_FIELD',
  'VALUE_TOO_LONG',
  'DUPLICATE_MAIN_FIELD',
  'UNENCODABLE_VALUE',
];

export const isBadInputError = (error: string | null): boolean =>
  error !== null && BAD_INPUT_CODES.some((code) => error.startsWith(code));

/** Value of one field for a contact: columns for mobile/email, else the attribute as text. */
function valueOf(m: MemberRow, field: string): string {
  if (field === 'mobile') return m.mobile ?? '';
  if (field === 'email') return m.email ?? '';
  const v = m.attributes?.[field];
  if (v === undefined || v === null) return '';
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** Every remote column of the group with the value it should hold ('' = empty). */
export function expectedFields(m: MemberRow, columns: string[]): Record<string, string> {
  return Object.fromEntries(columns.map((f) => [f, valueOf(m, f)]));
}

/** Why the provider cannot hold this member as it is now, or null when it can. */
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

/** Field names whose remote value differs from the expected one. */
export function differingFields(
  want: Record<string, string>,
  remote: Record<string, string>,
): string[] {
  return Object.keys(want).filter((f) => (remote[f] ?? '') !== want[f]);
}
