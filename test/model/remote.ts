/**
 * The remote side as the test sees it: the emulator's state, and Afilnet's API used the way its
 * web panel or another client would (the account's own credentials, plain HTTP).
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
  const res = await fetch(`${url}/__emulator/state`, { signal: AbortSignal.timeout(30_000) });
  if (!res.ok) throw new Error(`/__emulator/state: HTTP ${res.status}`);
  return ((await res.json()) as { groups: RemoteGroup[] }).groups;
}

/** One API call as the account's owner; throws on anything but SUCCESS. */
export async function panel(
  url: string,
  method: string,
  params: Record<string, string>,
): Promise<unknown> {
  const body = new URLSearchParams({
    user: 'demo',
    password: 'demo',
    class: 'group',
    method,
    ...params,
  });
  const res = await fetch(`${url}/api/http/`, {
    method: 'POST',
    body,
    signal: AbortSignal.timeout(30_000),
  });
  const answer = (await res.json()) as { status: string; result?: unknown; error?: string };
  if (answer.status !== 'SUCCESS') throw new Error(`${method}: ${answer.error ?? res.status}`);
  return answer.result;
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

/** Creates a remote group through the API and finds its id by its (unique) name. */
export async function createRemoteGroup(
  url: string,
  name: string,
  type: string,
  columns: string[],
): Promise<string> {
  await panel(url, 'creategroup', { name, type, fields: columns.join(',') });
  const found = (await remoteState(url)).find((g) => g.name === name);
  if (!found) throw new Error(`remote group ${name} not found after creategroup`);
  return String(found.idgroup);
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
