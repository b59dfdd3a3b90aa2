/**
 * The remote side as the test sees it: the emulator's state, and the edits an operator makes in
 * Afilnet's web panel (the emulator's `/__emulator/` routes, which the API's faults, rate limit
 * and account errors never touch).
 */
export interface RemoteContact {
  idcontact: number | string;
  fields: Record<string, string>;
}
export interface RemoteGroup {
  idgroup: number | string;
  name: string;
  type: string;
  fields: string[];
  contacts: RemoteContact[];
}

export async function remoteState(url: string): Promise<RemoteGroup[]> {
  const res = await fetch(`${url}/__emulator/state`, {
    signal: AbortSignal.timeout(30_000),
  });
  if (!res.ok) throw new Error(`/__emulator/state: HTTP ${res.status}`);
  return ((await res.json()) as { groups: RemoteGroup[] }).groups;
}

/** Plants a contact without the uniqueness check (the emulator's inspection route). */
export async function plant(
  url: string,
  idgroup: string,
  fields: Record<string, string>,
): Promise<void> {
  const res = await fetch(`${url}/__emulator/contacts`, {
    method: 'POST',
    body: JSON.stringify({ account: 'demo', idgroup, fields }),
    headers: { 'content-type': 'application/json' },
  });
  if (!res.ok) throw new Error(`plant: HTTP ${res.status}`);
}

/**
 * Creates a remote group the way an operator does, in the panel (`/__emulator/groups`): the
 * API's faults and account errors that a sequence may have set do not apply to it.
 */
export async function createRemoteGroup(
  url: string,
  name: string,
  type: string,
  columns: string[],
): Promise<string> {
  const res = await fetch(`${url}/__emulator/groups`, {
    method: 'POST',
    body: JSON.stringify({ account: 'demo', name, type, fields: columns }),
    headers: { 'content-type': 'application/json' },
  });
  if (!res.ok) throw new Error(`create group ${name}: HTTP ${res.status} ${await res.text()}`);
  return String(((await res.json()) as { idgroup: number }).idgroup);
}

/** A panel edit (the emulator's `/__emulator/` panel routes); throws on a refusal. */
export async function panelEdit(
  url: string,
  method: 'PATCH' | 'DELETE' | 'POST',
  path: string,
  body?: unknown,
): Promise<void> {
  const res = await fetch(`${url}/__emulator/${path}`, {
    method,
    ...(body === undefined
      ? {}
      : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  });
  if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${await res.text()}`);
}
