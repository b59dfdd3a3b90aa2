import { ContactEncodingError, type ContactEncodingProblem } from './errors.ts';

// The provider's `field:value,…` form has no escaping: these characters would split a pair or a
// field silently, writing wrong data to the wrong column. The provider does not say what it does
// with a newline; a value that may come back altered would look like drift forever, so refuse it.
function problemIn(text: string): ContactEncodingProblem | undefined {
  if (text.includes(',')) return 'comma';
  if (text.includes(':')) return 'colon';
  if (/[\r\n]/.test(text)) return 'newline';
  return undefined;
}

/**
 * Checks a field (column) name can travel in the provider's comma-separated and `field:value`
 * forms; throws `ContactEncodingError` naming it otherwise.
 */
export function assertFieldName(field: string): void {
  const problem = field.trim() === '' ? 'empty' : problemIn(field);
  if (problem) throw new ContactEncodingError(field, 'name', problem);
}

/**
 * Writes a contact in the `field:value,field:value` form that `addcontact` and `modifycontact`
 * take. Refuses (with `ContactEncodingError`, naming the field but not the value) anything the
 * form cannot carry; use `addcontactlist`, which takes JSON, for such contacts where possible.
 */
export function encodeContact(fields: Readonly<Record<string, string>>): string {
  const pairs: string[] = [];
  for (const [field, value] of Object.entries(fields)) {
    assertFieldName(field);
    const problem = problemIn(value);
    if (problem) throw new ContactEncodingError(field, 'value', problem);
    pairs.push(`${field}:${value}`);
  }
  return pairs.join(',');
}
