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

/** Reads NDJSON records from lines; blank lines are skipped, each bad line is one reject. */
export async function* ndjsonRecords(
  batches: AsyncIterable<SourceLine[]>,
): AsyncGenerator<SourceRecord[]> {
  for await (const batch of batches) {
    const out: SourceRecord[] = [];
    for (const l of batch) {
      const reject = (reason: string) => out.push({ line: l.line, raw: l.text, reason });
      if (l.oversize) reject('line longer than 1 MB');
      else if (!l.utf8) reject('not valid UTF-8');
      else if (l.text.trim() === '') continue;
      else {
        let parsed: unknown;
        try {
          parsed = JSON.parse(l.line === 1 ? l.text.replace(/^\uFEFF/, '') : l.text);
        } catch (err) {
          reject(`not valid JSON (${err instanceof Error ? err.message : String(err)})`);
          continue;
        }
        const input = toInput(parsed);
        if (typeof input === 'string') reject(input);
        else out.push({ line: l.line, raw: l.text, input });
      }
    }
    if (out.length > 0) yield out;
  }
}
