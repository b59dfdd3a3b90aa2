import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import type { ContactGroup } from './contact-group.ts';
import { parseId, type EmulatorStore } from './emulator-store.ts';
import { sendJson } from './http-answers.ts';
import { NotJsonError, readJsonBody } from './read-json-body.ts';
import type { CellValue } from './row-codec.ts';

// Edits the way Afilnet's web panel (or an old import) makes them: behind the API's back, so no
// call is counted, nothing is rate limited or faulted, and the API's checks (main-value
// uniqueness, string values) do not apply. This is how tests make remote drift.

const values = z.record(z.string(), z.json());
const plantBody = z.object({
  account: z.string(),
  idgroup: z.union([z.string(), z.number()]),
  fields: values,
});
const groupBody = z.strictObject({
  account: z.string(),
  name: z.string().trim().min(1),
  type: z.enum(['mobile', 'email']),
  fields: z.array(z.string().trim().min(1)),
});
const editBody = z.strictObject({ fields: values });
const columnBody = z.strictObject({
  field: z.string().trim().min(1),
  values: z.record(z.string(), z.json()).optional(),
});

/** A refusal with its HTTP status; nothing was changed. */
class Refusal extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Whether a path under /__emulator/ (without the prefix) is one of the panel routes. */
export function isPanelRoute(name: string): boolean {
  return name === 'contacts' || name === 'groups' || name.startsWith('groups/');
}

/** Serves the panel routes; every refusal is JSON `{"error":…}` and changes nothing. */
export async function handlePanelRoute(
  req: IncomingMessage,
  res: ServerResponse,
  name: string,
  store: EmulatorStore,
): Promise<void> {
  try {
    sendJson(res, 200, await route(req, name.split('/').map(decodePart), store));
  } catch (err) {
    if (err instanceof NotJsonError) return sendJson(res, 400, { error: err.message });
    if (err instanceof z.ZodError) return sendJson(res, 400, { error: z.prettifyError(err) });
    if (err instanceof Refusal) return sendJson(res, err.status, { error: err.message });
    throw err;
  }
}

async function route(req: IncomingMessage, path: string[], store: EmulatorStore): Promise<unknown> {
  const [head, idgroup = '', sub, item, ...rest] = path;
  const method = req.method ?? 'GET';
  if (head === 'contacts' && path.length === 1 && method === 'POST') {
    return plantContact(store, plantBody.parse(await readJsonBody(req)));
  }
  if (head === 'groups' && path.length === 1 && method === 'POST') {
    return createGroup(store, groupBody.parse(await readJsonBody(req)));
  }
  const group = store.groupById(idgroup);
  const known = rest.length === 0 && (sub === 'contacts' || sub === 'columns');
  if (!known) throw new Refusal(404, `No route ${method} /__emulator/${path.join('/')}`);
  if (!group) throw new Refusal(404, 'No such group');
  if (sub === 'contacts' && item !== undefined) {
    if (method === 'PATCH')
      return editContact(group, item, editBody.parse(await readJsonBody(req)));
    if (method === 'DELETE') return deleteContact(group, item);
  }
  if (sub === 'columns' && item === undefined && method === 'POST') {
    return addColumn(group, columnBody.parse(await readJsonBody(req)));
  }
  if (sub === 'columns' && item !== undefined && method === 'DELETE') {
    return deleteColumn(group, item.trim());
  }
  throw new Refusal(404, `No route ${method} /__emulator/${path.join('/')}`);
}

/** POST /__emulator/groups: a group made in the panel (its id shown, whatever the API's mode). */
function createGroup(store: EmulatorStore, body: z.infer<typeof groupBody>): unknown {
  const columns = [...new Set(body.fields)];
  if (!columns.includes(body.type)) {
    throw new Refusal(400, `The fields must include the main field "${body.type}"`);
  }
  return { idgroup: store.createGroup(body.account, body.name, body.type, columns).id };
}

/** POST /__emulator/contacts: a new contact, no uniqueness check. */
function plantContact(store: EmulatorStore, body: z.infer<typeof plantBody>): unknown {
  let group: ContactGroup;
  try {
    group = store.groupOf(body.account, String(body.idgroup));
  } catch {
    throw new Refusal(404, 'No such group for that account');
  }
  const idcontact = store.nextContactId();
  group.insert(idcontact, (field) => ownValue(body.fields, field));
  return { idcontact };
}

/** PATCH …/contacts/:idcontact: sets the named fields; an unknown column is refused. */
function editContact(group: ContactGroup, id: string, body: z.infer<typeof editBody>): unknown {
  const idcontact = contactOf(group, id);
  const unknown = Object.keys(body.fields).filter((field) => !group.columns.includes(field));
  if (unknown.length > 0) throw new Refusal(400, `Not columns of the group: ${unknown.join(', ')}`);
  group.edit(idcontact, new Map(Object.entries(body.fields) as [string, CellValue][]));
  return group.view(idcontact);
}

/** DELETE …/contacts/:idcontact. */
function deleteContact(group: ContactGroup, id: string): unknown {
  group.delete(contactOf(group, id));
  return { deleted: true };
}

/** POST …/columns: a new column, with values for the contacts named by id (others get ""). */
function addColumn(group: ContactGroup, body: z.infer<typeof columnBody>): unknown {
  if (group.columns.includes(body.field)) throw new Refusal(409, 'The column exists already');
  const byId = new Map<number, CellValue>();
  for (const [id, value] of Object.entries(body.values ?? {})) {
    byId.set(contactOf(group, id, 400), value);
  }
  group.addColumnWithValues(body.field, byId);
  return { fields: group.columns };
}

/** DELETE …/columns/:field: drops the column and its values; the main field stays. */
function deleteColumn(group: ContactGroup, field: string): unknown {
  if (field === group.type) throw new Refusal(400, 'The main field cannot be deleted');
  if (!group.columns.includes(field)) throw new Refusal(404, 'No such column');
  group.removeColumn(field);
  return { fields: group.columns };
}

function decodePart(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new Refusal(400, 'Malformed percent-encoding in the path');
  }
}

function contactOf(group: ContactGroup, id: string, status = 404): number {
  const idcontact = parseId(id);
  if (idcontact === undefined || !group.has(idcontact)) {
    throw new Refusal(status, `No contact ${id} in the group`);
  }
  return idcontact;
}

/** Own keys only, so a column named "constructor" is not read from Object.prototype. */
function ownValue(fields: Record<string, unknown>, field: string): CellValue | undefined {
  return Object.hasOwn(fields, field) ? (fields[field] as CellValue) : undefined;
}
