import type { ContactInput } from './contact-record.ts';
import type { SourceLine } from './read-lines.ts';
import type { SourceRecord } from './source-record.ts';

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * One JSON object per line: `id`, `mobile`, `email`; an `attributes` object; every other key is
 * an attribute too and wins over the same name inside `attributes`.
 */
function toInput(value: unknown): ContactInput | string {
  if (!isObject(value)) return 'not a JSON object';
  const attributes: [string, unknown][] = [];
  if ('attributes' in value && value.attributes !== null) {
    if (!isObject(value.attributes)) return 'attributes: must be an object';
    attributes.push(...Object.entries(value.attributes));
  }
  for (const [key, v] of Object.entries(value)) {
    if (key !== 'id' && key !== 'mobile' && key !== 'email' && key !== 'attributes') {
      attributes.push([key, v]);
    }
  }
  return { id: value.id, mobile: value.mobile, email: value.email, attributes };
}

/** Reads one NDJSON line: null for a blank line (skipped), else the record or why it is bad. */
export function ndjsonRecord(l: SourceLine): SourceRecord | null {
  const reject = (reason: string) => ({ line: l.line, raw: l.text, reason });
  if (l.oversize) return reject('line longer than 1 MB');
  if (!l.utf8) return reject('not valid UTF-8');
  if (l.text.trim() === '') return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(l.line === 1 ? l.text.replace(/^\uFEFF/, '') : l.text);
  } catch (err) {
    return reject(`not valid JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  const input = toInput(parsed);
  return typeof input === 'string' ? reject(input) : { line: l.line, raw: l.text, input };
}
