import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CallLog, LoggedCall } from './call-log.ts';
import type { ContactGroup } from './contact-group.ts';
import type { EmulatorStore } from './emulator-store.ts';
import type { FaultInjector } from './fault-injector.ts';
import { sendJson, streamJson } from './http-answers.ts';
import { handlePanelRoute, isPanelRoute } from './panel-routes.ts';
import type { RateLimiter } from './rate-limiter.ts';
import { readJsonBody } from './read-json-body.ts';

/** What the inspection routes see and reset. */
export interface InspectionDeps {
  store: EmulatorStore;
  calls: CallLog;
  faults: FaultInjector;
  limiter: RateLimiter;
}

/** The only prefix of the routes that are not part of Afilnet's API. */
export const INSPECTION_PREFIX = '/__emulator/';

/**
 * Serves /__emulator/: state, counters, request log, reset, faults and the panel's edits
 * (panel-routes.ts). No credentials are asked for: these routes exist for tests and demos on a local emulator, and never show a password.
 */
export async function handleInspection(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  deps: InspectionDeps,
): Promise<void> {
  const name = url.pathname.slice(INSPECTION_PREFIX.length).replace(/\/+$/, '');
  switch (`${req.method} ${name}`) {
    case 'GET state':
      return streamJson(res, stateJson(deps.store, url.searchParams.get('account') ?? undefined));
    case 'GET calls':
      return sendJson(res, 200, deps.calls.counters());
    case 'GET requests':
      return streamJson(res, jsonArray(callsJson(deps.calls.entries())));
    case 'POST reset':
      deps.store.clear();
      deps.calls.clear();
      deps.faults.clear();
      deps.limiter.clear();
      return sendJson(res, 200, { reset: true });
    case 'GET faults':
      return sendJson(res, 200, deps.faults.current);
    case 'POST faults':
      return postFaults(req, res, deps.faults);
    default:
      if (isPanelRoute(name)) return handlePanelRoute(req, res, name, deps.store);
      return sendJson(res, 404, { error: `No route ${req.method} ${url.pathname}` });
  }
}

async function postFaults(
  req: IncomingMessage,
  res: ServerResponse,
  faults: FaultInjector,
): Promise<void> {
  let patch: unknown;
  try {
    patch = await readJsonBody(req);
  } catch {
    return sendJson(res, 400, { error: 'The body must be a JSON object' });
  }
  try {
    sendJson(res, 200, faults.merge(patch));
  } catch (err) {
    sendJson(res, 400, { error: (err as Error).message });
  }
}

/** The whole state, group by group and contact by contact, produced lazily for streaming. */
function* stateJson(store: EmulatorStore, account?: string): Generator<string, void, undefined> {
  yield '{"groups":';
  yield* jsonArray(store.listGroups(account).map(groupJson));
  yield '}';
}

function* groupJson(group: ContactGroup): Generator<string, void, undefined> {
  const head = JSON.stringify({
    account: group.account,
    idgroup: group.id,
    name: group.name,
    type: group.type,
    fields: group.columns,
    country: group.country,
  });
  yield `${head.slice(0, -1)},"contacts":`;
  yield* jsonArray(group.contactsJson());
  yield '}';
}

function* callsJson(calls: Iterable<LoggedCall>): Generator<string, void, undefined> {
  for (const call of calls) yield JSON.stringify(call);
}

/** Joins items (each already JSON, or itself a sequence of pieces) into a JSON array. */
function* jsonArray(
  items: Iterable<string | Iterable<string>>,
): Generator<string, void, undefined> {
  yield '[';
  let first = true;
  for (const item of items) {
    if (!first) yield ',';
    first = false;
    if (typeof item === 'string') yield item;
    else yield* item;
  }
  yield ']';
}
