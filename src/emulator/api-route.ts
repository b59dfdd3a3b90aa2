import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CallLog, CallOutcome } from './call-log.ts';
import { dispatchCall } from './dispatch-call.ts';
import type { EmulatorStore } from './emulator-store.ts';
import type { FaultInjector } from './fault-injector.ts';
import { sendJsonText, sendText, streamJson } from './http-answers.ts';
import type { RateLimiter } from './rate-limiter.ts';
import { readApiRequest } from './read-api-request.ts';
import { redactPasswordInPath } from './redact-password.ts';

/** What the API route works with; one set per running emulator. */
export interface ApiRouteDeps {
  store: EmulatorStore;
  calls: CallLog;
  faults: FaultInjector;
  limiter: RateLimiter;
  strictDocs: boolean;
  /** Aborted when the emulator closes, so no answer waits out its latency after that. */
  closing: AbortSignal;
}

/**
 * Serves one request to /api/http/: reads it, counts it, lets the rate limit and the drawn fault
 * (if any) refuse it, applies it, waits out the latency and answers. Every request is counted and
 * logged, however it ends.
 */
export async function handleApiRequest(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  deps: ApiRouteDeps,
): Promise<void> {
  const at = performance.timeOrigin + performance.now();
  const request = await readApiRequest(req, url);
  const method = request.params.get('method');
  deps.calls.countArrival(method);
  const log = (outcome: CallOutcome) =>
    deps.calls.record({
      at,
      httpMethod: req.method ?? 'GET',
      path: redactPasswordInPath(req.url ?? ''),
      method: method ?? null,
      passwordInUrl: request.passwordInUrl,
      auth: request.auth,
      outcome,
    });
  const { latencyMs, rateLimitPerSecond } = deps.faults.current;
  const hold = () => holdBack(latencyMs, deps.closing);

  if (request.refusal) {
    log('bad_request');
    await hold();
    sendText(res, request.refusal.status, request.refusal.message, { connection: 'close' });
    return;
  }
  const account = request.params.get('user') ?? '';
  const retryAfter = deps.limiter.admit(account, rateLimitPerSecond, Date.now());
  if (retryAfter !== undefined) {
    log('rate_limited');
    await hold();
    const header = deps.faults.retryAfterHeader(retryAfter);
    sendText(res, 429, 'Too Many Requests', { 'retry-after': header });
    return;
  }
  const accountError = deps.faults.accountError();
  if (accountError !== undefined) {
    // As a rotated password or an empty balance would: every call refused, nothing applied.
    log('fault:account_error');
    await hold();
    sendJsonText(res, 200, JSON.stringify({ status: 'ERROR', error: accountError }));
    return;
  }
  const fault = deps.faults.draw();
  if (fault === 'error') {
    log('fault:error');
    await hold();
    sendText(res, 503, 'Service Unavailable (emulated fault)');
    return;
  }
  if (fault === 'reset') {
    log('fault:reset');
    await hold();
    req.socket.destroy();
    return;
  }
  const answer = dispatchCall(deps.store, request.params, deps.strictDocs);
  if (fault === 'applied_then_reset') {
    log('fault:applied_then_reset');
    await hold();
    req.socket.destroy();
    return;
  }
  if (fault === 'applied_then_error') {
    // A gateway in front of a provider that did the work but failed to answer: the worst case
    // for a client, since the status alone says nothing about whether the call took effect.
    log('fault:applied_then_error');
    await hold();
    sendText(
      res,
      deps.faults.appliedErrorStatus(),
      'Server error (emulated fault; the call was applied)',
    );
    return;
  }
  log(answer.outcome);
  await hold();
  if (answer.kind === 'whole') sendJsonText(res, 200, answer.body);
  else await streamJson(res, answer.pieces);
}

/** Waits `ms`, ending early (without failing) when the emulator is closing. */
async function holdBack(ms: number, closing: AbortSignal): Promise<void> {
  if (ms <= 0 || closing.aborted) return;
  await sleep(ms, undefined, { signal: closing }).catch(() => undefined);
}
