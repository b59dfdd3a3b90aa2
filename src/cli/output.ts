/**
 * Printing helpers shared by the operator commands: JSON for scripts, aligned tables and short
 * durations for people. Everything goes to stdout; progress and diagnostics use stderr.
 */

/** Writes one line to stdout. */
export function printLine(text = ''): void {
  process.stdout.write(`${text}\n`);
}

/** Writes `data` as indented JSON on stdout (one document per command run). */
export function printJson(data: unknown): void {
  process.stdout.write(`${JSON.stringify(data, null, 2)}\n`);
}

/** Cells are shown as text; null and undefined as a dash so empty columns stay readable. */
function cellText(value: unknown): string {
  if (value === null || value === undefined || value === '') return '-';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    return String(value);
  }
  return JSON.stringify(value) ?? '';
}

/**
 * Lays out rows under headers, columns padded to their widest cell. Numbers are right-aligned
 * so that counts can be compared at a glance; cells longer than `maxWidth` are cut with '…'.
 */
export function formatTable(
  headers: readonly string[],
  rows: readonly (readonly unknown[])[],
  opts: { maxWidth?: number } = {},
): string {
  const maxWidth = opts.maxWidth ?? 60;
  const clip = (s: string) => (s.length > maxWidth ? `${s.slice(0, maxWidth - 1)}…` : s);
  const text = rows.map((row) => headers.map((_, i) => clip(cellText(row[i]))));
  const numeric = headers.map(
    (_, i) => rows.length > 0 && rows.every((r) => typeof r[i] === 'number'),
  );
  const widths = headers.map((h, i) => Math.max(h.length, ...text.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[], alignNumbers: boolean) =>
    cells
      .map((c, i) => {
        const w = widths[i] ?? 0;
        return alignNumbers && numeric[i] ? c.padStart(w) : c.padEnd(w);
      })
      .join('  ')
      .trimEnd();
  return [line(headers, false), ...text.map((r) => line(r, true))].join('\n');
}

/** A duration in the largest sensible unit: "850 ms", "42 s", "3 min 5 s", "2 h 10 min". */
export function formatDuration(ms: number | null): string {
  if (ms === null) return '-';
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  const s = Math.floor(ms / 1_000);
  if (s < 60) return `${s} s`;
  const min = Math.floor(s / 60);
  if (min < 60) return s % 60 === 0 ? `${min} min` : `${min} min ${s % 60} s`;
  const h = Math.floor(min / 60);
  if (h < 48) return min % 60 === 0 ? `${h} h` : `${h} h ${min % 60} min`;
  return `${Math.floor(h / 24)} d`;
}

/** An ISO timestamp as "YYYY-MM-DD HH:MM:SS" (UTC, marked), or a dash. */
export function formatTime(iso: string | null): string {
  if (iso === null) return '-';
  return `${iso.slice(0, 19).replace('T', ' ')}Z`;
}

/** A count with its noun, singular or plural: "1 member", "3 members". */
export function plural(count: number, noun: string, nouns = `${noun}s`): string {
  return `${count} ${count === 1 ? noun : nouns}`;
}

/** How long before `now` an ISO timestamp was: "42 s ago", "3 min ago", or a dash. */
export function formatAgo(iso: string | null, now: string): string {
  if (iso === null) return '-';
  const ms = Date.parse(now) - Date.parse(iso);
  if (ms < 1_000) return 'just now';
  // Whole units only: "3 min ago" reads better than "3 min 5 s ago".
  return `${formatDuration(ms).replace(/^(\d+ \S+) .*$/, '$1')} ago`;
}
