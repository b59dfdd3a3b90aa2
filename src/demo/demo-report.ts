import type pg from 'pg';
import type { CallCounters } from '../emulator/index.ts';
import { EXPECTED_FAILURES, type NaiveCalls } from './demo-dataset.ts';

/** Where the sync stands: what is left to do, and what is done. */
export interface SyncProgress {
  /** Outbox rows, dirty marks and dirty groups: zero when the sync has drained. */
  backlog: number;
  members: number;
  synced: number;
}

/** What the demo ends with. */
export interface DemoSummary {
  database: string;
  contacts: number;
  members: { current: number; expected: number; synced: number; remote: number };
  failures: { groupId: string; contactId: string; error: string }[];
  apiCalls: { total: number; byMethod: Record<string, number> };
  naive: NaiveCalls & { total: number };
  durationMs: number;
}

/** Reads the backlog and the synced members (those whose current values are confirmed remotely). */
export async function readProgress(pool: pg.Pool): Promise<SyncProgress> {
  const res = await pool.query<{ backlog: number; members: number; synced: number }>(
    `SELECT ((SELECT count(*) FROM sync_outbox) + (SELECT count(*) FROM sync_dirty) +
             (SELECT count(*) FROM sync_group_state WHERE dirty))::int AS backlog,
            (SELECT count(*) FROM group_members)::int AS members,
            (SELECT count(*) FROM sync_member_state s JOIN group_members gm USING (group_id, contact_id)
             WHERE s.status = 'synced' AND s.synced_fields IS NOT NULL)::int AS synced`,
  );
  return res.rows[0] ?? { backlog: 0, members: 0, synced: 0 };
}

/** Members whose last sync failed, with the recorded reason. */
export async function readFailures(pool: pg.Pool): Promise<DemoSummary['failures']> {
  const res = await pool.query<{ group_id: string; contact_id: string; last_error: string | null }>(
    `SELECT group_id, contact_id, last_error FROM sync_member_state
     WHERE status = 'failed' ORDER BY group_id, contact_id`,
  );
  return res.rows.map((r) => ({
    groupId: r.group_id,
    contactId: r.contact_id,
    error: r.last_error ?? '(no reason recorded)',
  }));
}

/** Builds the summary from the final progress, the failures and the emulator's counters. */
export function summarize(input: {
  database: string;
  contacts: number;
  progress: SyncProgress;
  remote: number;
  failures: DemoSummary['failures'];
  calls: CallCounters;
  naive: NaiveCalls;
  durationMs: number;
}): DemoSummary {
  const { naive } = input;
  return {
    database: input.database,
    contacts: input.contacts,
    members: {
      current: input.progress.members,
      expected: input.progress.members - EXPECTED_FAILURES,
      synced: input.progress.synced,
      remote: input.remote,
    },
    failures: input.failures,
    apiCalls: { total: input.calls.total, byMethod: input.calls.byMethod },
    naive: { ...naive, total: naive.groups + naive.memberships + naive.updates + naive.deletes },
    durationMs: input.durationMs,
  };
}

const n = (value: number) => value.toLocaleString('en-US');

/** The summary as the lines printed at the end of `npm run demo`. */
export function formatSummary(s: DemoSummary): string[] {
  const methods = Object.entries(s.apiCalls.byMethod)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([m, count]) => `${m} ${n(count)}`)
    .join(', ');
  const saved = s.naive.total > 0 ? Math.round((1 - s.apiCalls.total / s.naive.total) * 100) : 0;
  return [
    '',
    'Demo summary',
    `  database:            ${s.database}`,
    `  contacts:            ${n(s.contacts)} good + 2 bad on purpose`,
    `  members synced:      ${n(s.members.synced)} of ${n(s.members.expected)} expected ` +
      `(${n(s.members.current)} memberships; the emulator holds ${n(s.members.remote)} contacts)`,
    `  API calls made:      ${n(s.apiCalls.total)} (${methods})`,
    `  one call per change: ${n(s.naive.total)} (${n(s.naive.groups)} groups created, ` +
      `${n(s.naive.memberships)} memberships added, ${n(s.naive.updates)} contact updates × ` +
      `their groups, ${n(s.naive.deletes)} memberships removed)`,
    `  calls saved:         ${saved}%`,
    `  failed records:      ${n(s.failures.length)}`,
    ...s.failures.map((f) => `    ${f.groupId} / ${f.contactId}: ${f.error}`),
    `  took:                ${(s.durationMs / 1000).toFixed(1)} s`,
  ];
}
