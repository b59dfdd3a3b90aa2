import {
  RESYNC_KINDS,
  type AppliedCounts,
  type KindCounts,
  type ResyncItem,
  type ResyncRun,
} from './resync-types.ts';

/** "3 add, 1 modify", in the kinds' fixed order; "nothing" when there are none. */
export function formatCounts(counts: KindCounts): string {
  const parts = RESYNC_KINDS.flatMap((k) => (counts[k] ? [`${counts[k]} ${k}`] : []));
  return parts.length > 0 ? parts.join(', ') : 'nothing';
}

const quote = (value: string | null | undefined) => JSON.stringify(value ?? '');

/** One example item on one line: what it is, which contact, and what differs. */
export function formatItem(item: ResyncItem): string {
  const ids = [
    item.contactId && !item.contactId.startsWith('remote:') ? `contact ${item.contactId}` : null,
    item.remoteId ? `remote ${item.remoteId}` : null,
  ].filter((x) => x !== null);
  const head = `${item.kind.padEnd(13)} ${item.mainValue ?? '(no main value)'}`;
  const where = ids.length > 0 ? ` (${ids.join(', ')})` : '';
  const detail = (item.detail ?? {}) as {
    changes?: Record<string, { local?: string | null; remote?: string | null }>;
    kept?: string;
    previous_remote_id?: string | null;
    values?: number;
  };
  let what = '';
  if (item.kind === 'modify' && detail.changes) {
    what = Object.entries(detail.changes)
      .map(([f, c]) => `${f}: Afilnet ${quote(c.remote)}, database ${quote(c.local)}`)
      .join('; ');
  } else if (item.kind === 'duplicate' && detail.kept) {
    what = `same main value as remote ${detail.kept}, which is kept`;
  } else if (item.kind === 'delete_column' && detail.values !== undefined) {
    what =
      detail.values > 0
        ? `holds ${detail.values} values: held until approve-deletes`
        : 'empty, deleted';
  } else if (item.kind === 'opt_out') {
    what = 'removed in Afilnet: opted out, not re-added until opt-outs clear';
  } else if (item.kind === 'adopt') {
    what = detail.previous_remote_id
      ? `was remembered as remote ${detail.previous_remote_id}`
      : 'its remote id was not known';
  }
  return `${head}${where}${what ? `: ${what}` : ''}`;
}

/** What a run of one group planned, with a few examples of each kind, for people to read. */
export function formatPlanReport(run: ResyncRun, examples: ResyncItem[]): string {
  const lines = [
    `Resync run ${run.id}${run.dryRun ? ' (dry run)' : ''} by ${run.startedBy}: ${run.status}`,
  ];
  for (const groupId of run.groupIds) {
    const progress = run.progress[groupId];
    if (progress?.phase === 'failed') {
      lines.push(`  group ${groupId}: failed: ${progress.error ?? 'unknown error'}`);
      continue;
    }
    const counts = run.counts[groupId] ?? {};
    const read = progress?.read === undefined ? '' : ` (${progress.read} remote contacts read)`;
    const none = Object.keys(counts).length === 0;
    lines.push(
      `  group ${groupId}${read}: ${none ? 'in step, nothing to do' : formatCounts(counts)}`,
    );
    const order = (e: ResyncItem) => RESYNC_KINDS.indexOf(e.kind);
    const own = examples.filter((e) => e.groupId === groupId).sort((a, b) => order(a) - order(b));
    for (const item of own) {
      lines.push(`    ${formatItem(item)}`);
    }
  }
  if (run.error) lines.push(`Errors:\n  ${run.error.split('\n').join('\n  ')}`);
  return lines.join('\n');
}

/** A finished run's outcome: per group, what was applied and what failed. */
export function formatOutcome(run: ResyncRun): string {
  const took =
    run.finishedAt === null
      ? ''
      : ` in ${Math.round((run.finishedAt.getTime() - run.startedAt.getTime()) / 1000)} s`;
  const lines = [`Resync run ${run.id} ${run.status}${took}`];
  for (const groupId of run.groupIds) {
    const progress = run.progress[groupId];
    const applied: AppliedCounts = run.applied[groupId] ?? { applied: {}, failed: {} };
    if (progress?.phase === 'failed') {
      lines.push(`  group ${groupId}: failed: ${progress.error ?? 'unknown error'}`);
      continue;
    }
    const failed = Object.keys(applied.failed).length > 0;
    lines.push(
      `  group ${groupId}: planned ${formatCounts(run.counts[groupId] ?? {})}; ` +
        `applied ${formatCounts(applied.applied)}` +
        (failed ? `; failed ${formatCounts(applied.failed)} (see \`afilnet-sync errors\`)` : ''),
    );
  }
  return lines.join('\n');
}
