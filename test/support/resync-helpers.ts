import type { AfilnetClient } from '../../src/afilnet/index.ts';
import { createLogger } from '../../src/observability/logger.ts';
import {
  checkResyncProgress,
  startResync,
  type ResyncRun,
  type ResyncServices,
} from '../../src/resync/index.ts';
import { ApiCaller } from '../../src/gateway/api-caller.ts';
import { emulatorCalls, waitFor, type Harness } from './harness.ts';
import { drained } from './sync-helpers.ts';

/** Resync services on the running daemon's own pool, queue and rate budget. */
export function servicesOf(h: Harness, client: AfilnetClient): ResyncServices {
  const daemon = h.daemon;
  if (!daemon) throw new Error('start the daemon first');
  const logger = createLogger({ level: 'silent' });
  return {
    pool: daemon.pool,
    queue: daemon.queue,
    client,
    caller: new ApiCaller(daemon.budget, null, logger),
    logger,
  };
}

/** Calls by method made while `work` ran. */
export async function callsDuring(
  h: Harness,
  work: () => Promise<unknown>,
): Promise<Record<string, number>> {
  const before = (await emulatorCalls(h.emulator.url)).byMethod;
  await work();
  const after = (await emulatorCalls(h.emulator.url)).byMethod;
  return Object.fromEntries(
    Object.entries(after)
      .map(([m, n]) => [m, n - (before[m] ?? 0)] as const)
      .filter(([, n]) => n > 0),
  );
}

/** Requests a resync and waits until the daemon has applied it and drained. */
export async function applyResync(
  h: Harness,
  services: ResyncServices,
  groups: string[],
): Promise<ResyncRun> {
  const started = await startResync(services, { groups, dryRun: false, startedBy: 'test@host' });
  let run = started;
  await waitFor(
    async () => {
      run = await checkResyncProgress(services.pool, started.id);
      return run.status === 'done' || run.status === 'failed';
    },
    60_000,
    'the resync to be applied',
  );
  await waitFor(() => drained(h), 30_000, 'the sync to drain');
  return run;
}
