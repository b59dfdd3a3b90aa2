import { mkdir, writeFile } from 'node:fs/promises';
import { failing, type CheckResult } from './check.ts';

export interface SoakSummary {
  changes: number;
  kills: number;
  redisRestarts: number;
  postgresRestarts: number;
  unexpectedExits: number;
  operatorActions: number;
  converged: boolean;
  convergeMs: number;
  /** Until nothing was left to sync, whatever the check said (null: never). */
  drainedMs: number | null;
  check: CheckResult | null;
}

/** The soak passes when it converged and the final check found nothing wrong. */
export const passed = (s: SoakSummary): boolean =>
  s.converged && s.check !== null && failing(s.check) === 0;

export function printSummary(s: SoakSummary, say: (line: string) => void): void {
  const c = s.check;
  say('');
  say(`changes driven      ${s.changes}`);
  say(`daemon SIGKILLs     ${s.kills} (unexpected exits: ${s.unexpectedExits})`);
  say(`restarts            Redis ${s.redisRestarts}, Postgres ${s.postgresRestarts}`);
  say(`operator actions    ${s.operatorActions}`);
  const drained = s.drainedMs === null ? 'never' : `${(s.drainedMs / 1000).toFixed(1)} s`;
  say(`backlog empty after ${drained} (faults off, writers stopped)`);
  say(
    `converged           ${s.converged ? `yes, in ${(s.convergeMs / 1000).toFixed(1)} s` : `NO (gave up after ${(s.convergeMs / 1000).toFixed(1)} s)`}`,
  );
  if (!c) return;
  say(
    `checked             ${c.groups} groups, ${c.members} members, ${c.remoteContacts} remote contacts`,
  );
  say(`lost                ${c.lost}`);
  say(`duplicated          ${c.duplicated}`);
  say(`unexpected          ${c.unexpected}`);
  say(`stale               ${c.stale}`);
  say(`group problems      ${c.groupProblems}`);
  for (const [cause, n] of Object.entries(c.causes)) {
    if (/^(lost|stale|unexpected|duplicated|groupProblems):/.test(cause)) say(`  ${n} ${cause}`);
  }
  const bad = Object.entries(c.badInput)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  say(`bad input (ok)      ${bad}; failed for input no longer bad: ${c.failedNowValid}`);
  say(
    `explained remnants  ${c.failedRemnants}; empty orphan remote groups: ${c.orphanRemoteGroups}`,
  );
  for (const [kind, list] of Object.entries(c.examples)) {
    if (kind === 'orphanRemoteGroups' || list.length === 0) continue;
    // The first example of each cause.
    const byCause = new Map<string, unknown>();
    for (const e of list) {
      const cause = (e as { cause?: string }).cause ?? '-';
      if (!byCause.has(cause)) byCause.set(cause, e);
    }
    const shown = [...byCause.values()].slice(0, 4).map((e) => JSON.stringify(e));
    say(`  e.g. ${kind}: ${shown.join('\n        ')}`);
  }
}

/** Writes bench/results/chaos-<timestamp>.json; returns its path. */
export async function writeResults(at: string, result: unknown): Promise<string> {
  await mkdir(new URL('../results/', import.meta.url), { recursive: true });
  const file = new URL(`../results/chaos-${at.replace(/[:.]/g, '-')}.json`, import.meta.url);
  await writeFile(file, `${JSON.stringify(result, null, 2)}\n`);
  return file.pathname;
}
