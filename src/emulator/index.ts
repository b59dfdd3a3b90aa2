import { setMaxListeners } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { handleApiRequest, type ApiRouteDeps } from './api-route.ts';
import { CallLog } from './call-log.ts';
import { EmulatorStore, type EmulatorAccount } from './emulator-store.ts';
import { FaultInjector } from './fault-injector.ts';
import { sendJson, sendText } from './http-answers.ts';
import { handleInspection, INSPECTION_PREFIX } from './inspection-routes.ts';
import { RateLimiter } from './rate-limiter.ts';

export type { CallCounters, CallOutcome, LoggedCall } from './call-log.ts';
export type { FaultSettings } from './fault-injector.ts';

/** How to start an emulator; every option has a default. */
export interface EmulatorOptions {
  /** Port to listen on; 0 (the default) picks a free one. */
  port?: number;
  /** Address to bind; default 127.0.0.1. */
  host?: string;
  /** Accounts that may log in; default one account, demo / demo. */
  accounts?: { user: string; password: string }[];
  /** Creating methods answer without ids, as the provider's page literally says. */
  strictDocs?: boolean;
}

/** A listening emulator. */
export interface RunningEmulator {
  /** Base URL without a trailing slash, e.g. http://127.0.0.1:34567. */
  url: string;
  /** Stops listening and drops every open connection, streams included. */
  close(): Promise<void>;
}

const DEFAULT_ACCOUNTS: readonly EmulatorAccount[] = [{ user: 'demo', password: 'demo' }];
const API_PATHS = new Set(['/api/http/', '/api/http']);

/**
 * Starts a stateful fake of the Afilnet Contacts API (class=group) on its own HTTP server, with
 * inspection and fault injection under /__emulator/. State lives in memory, one per emulator.
 */
export async function startEmulator(opts: EmulatorOptions = {}): Promise<RunningEmulator> {
  const host = opts.host ?? '127.0.0.1';
  const closing = new AbortController();
  // Every answer held back by latency listens on this one signal; there may be thousands.
  setMaxListeners(0, closing.signal);
  const deps: ApiRouteDeps = {
    store: new EmulatorStore(opts.accounts ?? DEFAULT_ACCOUNTS),
    calls: new CallLog(),
    faults: new FaultInjector(),
    limiter: new RateLimiter(),
    strictDocs: opts.strictDocs ?? false,
    closing: closing.signal,
  };
  const server = createServer((req, res) => {
    route(req, res, deps).catch((err: unknown) => failed(res, err));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        closing.abort();
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}

async function route(req: IncomingMessage, res: ServerResponse, deps: ApiRouteDeps): Promise<void> {
  // Prefixed rather than parsed as a relative URL, so a path starting with // is not a host.
  const url = new URL(`http://emulator${req.url ?? '/'}`);
  if (API_PATHS.has(url.pathname)) return handleApiRequest(req, res, url, deps);
  if (url.pathname.startsWith(INSPECTION_PREFIX)) return handleInspection(req, res, url, deps);
  req.resume();
  sendText(res, 404, 'Not Found: the API is at /api/http/, inspection under /__emulator/');
}

/** A bug in the emulator: answer 500 if nothing was sent yet, otherwise cut the connection. */
function failed(res: ServerResponse, err: unknown): void {
  if (res.headersSent) res.destroy();
  else sendJson(res, 500, { error: err instanceof Error ? err.message : String(err) });
}
