/**
 * When drift checks run (DRIFT_CHECK_SCHEDULE): an interval (`90s`, `15m`, `6h`, `1d`) or a
 * five-field cron expression in UTC (`0 3 * * *`: minute hour day-of-month month day-of-week;
 * `*`, numbers, `a-b`, lists and `/step`). Pure: the next time after a given one.
 */
export type DriftSchedule = { every: number } | { cron: number[][] };

const UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const RANGES: [number, number][] = [
  [0, 59],
  [0, 23],
  [1, 31],
  [1, 12],
  [0, 6],
];

/** Parses a schedule, or throws with what is wrong. */
export function parseDriftSchedule(text: string): DriftSchedule {
  const interval = /^(\d+)\s*([smhd])$/.exec(text.trim());
  if (interval) {
    const ms = Number(interval[1]) * (UNITS[interval[2] ?? ''] ?? 0);
    if (ms <= 0) throw new Error(`"${text}": an interval must be longer than zero`);
    return { every: ms };
  }
  const parts = text.trim().split(/\s+/);
  if (parts.length !== 5) {
    throw new Error(`"${text}": give an interval (30m, 6h, 1d) or a cron expression of 5 fields`);
  }
  return { cron: parts.map((p, i) => parseField(p, RANGES[i] as [number, number], text)) };
}

function parseField(field: string, [lo, hi]: [number, number], text: string): number[] {
  const values = new Set<number>();
  for (const item of field.split(',')) {
    const m = /^(\*|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/.exec(item);
    if (!m) throw new Error(`"${text}": cannot read "${item}"`);
    const from = m[1] === '*' ? lo : Number(m[2]);
    const to = m[1] === '*' ? hi : m[3] !== undefined ? Number(m[3]) : m[4] ? hi : from;
    const step = m[4] !== undefined ? Number(m[4]) : 1;
    if (from < lo || to > hi || from > to || step < 1) {
      throw new Error(`"${text}": "${item}" is outside ${lo}-${hi}`);
    }
    for (let v = from; v <= to; v += step) values.add(v);
  }
  return [...values];
}

/** The next time the schedule fires after `after` (ms since the epoch). */
export function nextDriftCheck(schedule: DriftSchedule, after: number): number {
  if ('every' in schedule) return after + schedule.every;
  const [minutes, hours, days, months, weekdays] = schedule.cron as [
    number[],
    number[],
    number[],
    number[],
    number[],
  ];
  const t = new Date(Math.floor(after / 60_000) * 60_000 + 60_000);
  // A minute at a time is plenty for a schedule read once per check (a year is 525,600 steps).
  for (let i = 0; i < 527_040; i++, t.setTime(t.getTime() + 60_000)) {
    if (
      minutes.includes(t.getUTCMinutes()) &&
      hours.includes(t.getUTCHours()) &&
      days.includes(t.getUTCDate()) &&
      months.includes(t.getUTCMonth() + 1) &&
      weekdays.includes(t.getUTCDay())
    ) {
      return t.getTime();
    }
  }
  throw new Error('the cron expression never fires');
}
