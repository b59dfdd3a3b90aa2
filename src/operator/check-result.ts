/** What `check` looks at: the three things the daemon cannot work without. */
export type CheckName = 'database' | 'redis' | 'afilnet';

/** One line of `check`: what was found, and when it is a problem, what to do about it. */
export interface CheckResult {
  name: CheckName;
  ok: boolean;
  /** What was found: "reachable, 14 migrations applied", "maxmemory-policy allkeys-lru". */
  detail: string;
  /** The fix, for a problem; null when ok. */
  fix: string | null;
}

export const passed = (name: CheckName, detail: string): CheckResult => ({
  name,
  ok: true,
  detail,
  fix: null,
});

export const failed = (name: CheckName, detail: string, fix: string): CheckResult => ({
  name,
  ok: false,
  detail,
  fix,
});

/** An error's message, never its stack; falls back to the error's name or its text. */
export function reasonOf(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) return reasonOf(err.errors[0]);
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}
