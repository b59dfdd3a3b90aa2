import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AfilnetClient } from '../src/afilnet/index.ts';
import { createLogger } from '../src/observability/logger.ts';
import { checkResyncProgress, startResync, type ResyncRun } from '../src/resync/index.ts';
import { ApiCaller } from '../src/gateway/api-caller.ts';
import {
  compareWithEmulator,
  createHarness,
  emulatorState,
  setFaults,
  waitFor,
  type Harness,
} from './support/harness.ts';
import { drained } from './support/sync-helpers.ts';

const GROUPS = Array.from({ length: 10 }, (_, i) => `m${i}`);

describe('a resync of every group at once', () => {
  let h: Harness;
  let client: AfilnetClient;
  beforeAll(async () => {
    // More groups than worker slots: every slot plans a resync at once, each holding its group's
    // sync lock and resync lock sessions, so the connection pool is as busy as it gets.
    h = await createHarness({ env: { SYNC_CONCURRENCY: '8' } });
    client = AfilnetClient.fromConfig(h.config);
    for (const g of GROUPS) {
      await h.db.query(
        `INSERT INTO groups (id, name, type, fields) VALUES ($1, $1, 'mobile', '{mobile,name}');
         INSERT INTO contacts (id, mobile, attributes)
           SELECT $1 || '-' || i, '3465' || $2 || lpad(i::text, 5, '0'), '{"name":"N"}'
           FROM generate_series(1, 20) i;
         INSERT INTO group_members SELECT $1, $1 || '-' || i FROM generate_series(1, 20) i;`
          .replaceAll('$1', `'${g}'`)
          .replaceAll('$2', `'${g.slice(1).padStart(2, '0')}'`),
      );
    }
    await h.startDaemon();
    await waitFor(() => drained(h), 60_000, 'the first sync');
  });
  afterAll(async () => {
    await client?.close();
    await h?.close();
  });

  it('applies them all, each in its own worker run, and ends done', async () => {
    // One renamed contact in each remote group.
    for (const remote of await emulatorState(h.emulator.url)) {
      const first = remote.contacts[0];
      if (first) {
        await client.modifycontact(String(remote.idgroup), String(first.idcontact), {
          name: 'Drifted',
        });
      }
    }
    const daemon = h.daemon;
    if (!daemon) throw new Error('the daemon is not running');
    const logger = createLogger({ level: 'silent' });
    const services = {
      pool: daemon.pool,
      queue: daemon.queue,
      client,
      caller: new ApiCaller(daemon.budget, null, logger),
      logger,
    };
    // Answers held back, so every job is inside its plan at the same time.
    await setFaults(h.emulator.url, { latencyMs: 300 });
    const started = await startResync(services, { all: true, dryRun: false, startedBy: 't' });
    expect(started.groupIds).toEqual([...GROUPS].sort());
    let run: ResyncRun = started;
    await waitFor(
      async () =>
        ['done', 'failed'].includes((run = await checkResyncProgress(h.db, started.id)).status),
      60_000,
      'every group to be resynced',
    );
    await setFaults(h.emulator.url, { latencyMs: 0 });
    expect(run.status).toBe('done');
    for (const g of GROUPS) expect(run.applied[g]).toEqual({ applied: { modify: 1 }, failed: {} });
    await waitFor(() => drained(h), 30_000, 'the sync to drain');
    expect(await compareWithEmulator(h)).toEqual([]);
  });
});
