/**
 * The soak's data model: a handful of groups of both types with overlapping columns, and
 * contacts whose ids, mobiles and e-mails come from counters, so main values are never reused by
 * accident (a duplicate is always one of the deliberate bad records).
 */
export interface GroupSpec {
  id: string;
  type: 'mobile' | 'email';
  fields: string[];
}

export const INITIAL_GROUPS: GroupSpec[] = [
  { id: 'g01', type: 'mobile', fields: ['mobile', 'name', 'city'] },
  { id: 'g02', type: 'email', fields: ['email', 'name', 'city'] },
  { id: 'g03', type: 'mobile', fields: ['mobile', 'email', 'name'] },
  { id: 'g04', type: 'email', fields: ['email', 'mobile', 'tier'] },
  { id: 'g05', type: 'mobile', fields: ['mobile', 'name'] },
  { id: 'g06', type: 'email', fields: ['email', 'name', 'city', 'tier'] },
  { id: 'g07', type: 'mobile', fields: ['mobile', 'city', 'tier'] },
  { id: 'g08', type: 'email', fields: ['email', 'name'] },
];

/** Groups made while the drivers run, so creation races with faults and kills. */
export const LATE_GROUPS: GroupSpec[] = [
  { id: 'n01', type: 'mobile', fields: ['mobile', 'name', 'city'] },
  { id: 'n02', type: 'email', fields: ['email', 'name'] },
  { id: 'n03', type: 'mobile', fields: ['mobile', 'tier'] },
];

/** The group deleted late in the run (after it gained members) and the column changes. */
export const DELETED_GROUP = 'n02';
export const COLUMN_ADDED = { group: 'g01', field: 'tier' };
export const COLUMN_REMOVED = { group: 'g06', field: 'city' };

export const groupName = (id: string): string => `Chaos ${id}`;

export const mobileOf = (n: number): string => `346${String(n).padStart(8, '0')}`;
export const emailOf = (n: number): string => `u${n}@chaos.test`;
/** Values given by a main-field change: a range of their own, still never reused. */
export const newMobileOf = (n: number): string => `347${String(n).padStart(8, '0')}`;
export const newEmailOf = (n: number): string => `m${n}@chaos.test`;

const CITIES = ['Madrid', 'Sevilla', 'Bilbao', 'Valencia', 'Vigo', 'Murcia', 'Girona'];
const TIERS = ['gold', 'silver', 'bronze'];

export const pick = <T>(xs: readonly T[]): T => xs[Math.floor(Math.random() * xs.length)] as T;
export const randInt = (lo: number, hi: number): number =>
  lo + Math.floor(Math.random() * (hi - lo + 1));

/** A contact's attributes: a tier on about a third, so adding that column costs some modifies. */
export function attributesFor(n: number): Record<string, string> {
  const attrs: Record<string, string> = { name: `Name ${n}`, city: pick(CITIES) };
  if (Math.random() < 0.3) attrs.tier = pick(TIERS);
  return attrs;
}

/** One attribute edit: a new name most often, sometimes a city, a tier, or a removed city. */
export function attributeEdit(step: number): { set: Record<string, string>; drop: string | null } {
  const r = Math.random();
  if (r < 0.6) return { set: { name: `Renamed ${step}-${randInt(0, 999)}` }, drop: null };
  if (r < 0.85) return { set: { city: pick(CITIES) }, drop: null };
  if (r < 0.95) return { set: { tier: pick(TIERS) }, drop: null };
  return { set: {}, drop: 'city' };
}

/** Idempotent: a retry after a COMMIT whose answer was lost must not fail. */
export const CREATE_GROUP_SQL = `INSERT INTO groups (id, name, type, fields) VALUES ($1, $2, $3, $4)
  ON CONFLICT (id) DO NOTHING`;
