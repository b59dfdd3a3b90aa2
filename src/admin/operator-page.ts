import type { ErrorReport } from '../operator/error-report.ts';
import type { ControlledStatus } from '../operator/group-controls.ts';

/**
 * The operator page's HTML, rendered from what GET /status and GET /errors answer. Plain
 * server-rendered HTML with no script: approving a hold is a form POST.
 */

type PageGroup = ControlledStatus['groups'][number];

const esc = (value: string | number | null | undefined): string =>
  String(value ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** What the page shows: GET /status (groups with their controls) and GET /errors, as JSON. */
export interface PageData {
  status: Pick<ControlledStatus, 'groups' | 'accountPause' | 'lag' | 'at'>;
  errors: ErrorReport;
  /** A line to show at the top after an action ("Approved …"). */
  notice: string | null;
}

function pausedText(paused: PageGroup['paused']): string {
  return paused ? `yes, since ${paused.at}${paused.by ? ` by ${paused.by}` : ''}` : 'no';
}

function groupRows(groups: PageGroup[]): string {
  if (groups.length === 0) return '<p>No groups.</p>';
  const head = [
    'Group',
    'Name',
    'State',
    'Members',
    'Synced',
    'Pending',
    'Failed',
    'Held',
    'Paused',
    'Last sync',
    'Last error',
  ];
  const rows = groups.map((g) => {
    const cells = [
      g.id,
      g.exists ? g.name : '(deleted)',
      g.status ?? 'new',
      g.members,
      g.synced,
      g.pending,
      g.failed,
      g.heldDeletes,
      pausedText(g.paused),
      g.lastSyncAt ?? '-',
      g.lastError ?? '',
    ];
    return `<tr data-group="${esc(g.id)}">${cells.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`;
  });
  return `<table><thead><tr>${head.map((h) => `<th>${h}</th>`).join('')}</tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function holdRows(holds: PageData['errors']['holds']): string {
  if (holds.length === 0) return '<p>No deletes are held.</p>';
  const rows = holds.map(
    (h) =>
      `<tr data-hold="${esc(h.id)}"><td>${esc(h.groupId)}</td><td>${esc(h.kind)}</td><td>${esc(h.count)}</td><td>${esc(h.reason)}</td><td>${esc(h.createdAt)}</td>` +
      `<td><form method="post" action="/ui/groups/${encodeURIComponent(h.groupId)}/approve-deletes">` +
      `<button type="submit">Approve deletes of ${esc(h.groupId)}</button></form></td></tr>`,
  );
  return `<table><thead><tr><th>Group</th><th>Kind</th><th>Count</th><th>Why held</th><th>Since</th><th></th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function errorRows(errors: PageData['errors']): string {
  const groups = errors.groups.map(
    (g) => `<li>group ${esc(g.groupId)} ${esc(g.status)}: ${esc(g.lastError ?? '')}</li>`,
  );
  const members = errors.members
    .slice(0, 50)
    .map(
      (m) =>
        `<li>${esc(m.groupId)} / ${esc(m.contactId)} (${esc(m.lastMethod ?? '-')}): ${esc(m.lastError ?? '')}</li>`,
    );
  if (groups.length + members.length === 0) return '<p>No current errors.</p>';
  const more =
    errors.failedMembers > members.length
      ? `<p>${errors.failedMembers} failing members in all (<code>npx afilnet-sync errors</code>).</p>`
      : '';
  return `<ul>${groups.join('')}${members.join('')}</ul>${more}`;
}

/** The whole page. */
export function renderOperatorPage(data: PageData): string {
  const { status, errors } = data;
  const account = status.accountPause
    ? `<p role="alert" class="paused">Account PAUSED: ${esc(status.accountPause.reason)}; probing until Afilnet answers.</p>`
    : '<p>Account: answering.</p>';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>afilnet-sync</title>
<style>body{font-family:sans-serif;margin:1.5rem}table{border-collapse:collapse;margin-bottom:1rem}td,th{border:1px solid #ccc;padding:.25rem .5rem;text-align:left}.paused{color:#a00;font-weight:bold}</style>
</head><body>
<h1>afilnet-sync</h1>
${data.notice ? `<p role="status">${esc(data.notice)}</p>` : ''}
${account}
<p>${esc(status.lag.dirtyMarks)} members pending; as of ${esc(status.at)}. <a href="/queues">Queues</a></p>
<h2>Groups</h2>
${groupRows(status.groups)}
<h2>Held deletes</h2>
${holdRows(errors.holds)}
<h2>Current errors</h2>
${errorRows(errors)}
<form method="post" action="/queues/logout"><button type="submit">Log out</button></form>
</body></html>`;
}
