import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../src/db/migrate.ts';
import {
  connectWriter,
  createRelayRig,
  dirtyPairs,
  relayListening,
  waitUntil,
} from './support/capture-rig.ts';
import { postgresBinDir, startOwnPostgres, type OwnPostgres } from './support/own-postgres.ts';
import { testRedis } from './support/stores.ts';

const binDir = postgresBinDir();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What a writer knows about its commits: acknowledged, or lost with the connection (unknown). */
interface Ledger {
  committed: Set<string>;
  unknown: Set<string>;
  afterRestart: number;
}

/**
 * Commits one new group with one member per transaction, every ~10 ms, through the restart:
 * reconnects as soon as the server is back, so some commits land before the relay re-LISTENs.
 */
async function keepWriting(url: string, ledger: Ledger, done: () => boolean): Promise<void> {
  let client: pg.Client | null = null;
  let restarted = false;
  for (let i = 0; !done(); i++) {
    const group = `r${i}`;
    if (!client) {
      client = await connectWriter(url).catch(() => null);
      if (!client) {
        restarted = true;
        i--;
        await sleep(20);
        continue;
      }
    }
    try {
      await client.query(`
        INSERT INTO groups (id, name, type, fields) VALUES ('${group}', 'R', 'mobile', '{mobile}');
        INSERT INTO group_members VALUES ('${group}', 'c')`);
      ledger.committed.add(group);
      if (restarted) ledger.afterRestart++;
    } catch {
      ledger.unknown.add(group);
      restarted = true;
      await client.end().catch(() => undefined);
      client = null;
    }
    await sleep(10);
  }
  await client?.end();
}

describe.skipIf(!binDir)('a Postgres restart while the relay runs', () => {
  let server: OwnPostgres;
  let db: pg.Client;

  beforeAll(async () => {
    server = await startOwnPostgres(binDir ?? '');
    await migrate(server.url);
  });

  afterAll(async () => {
    await server?.destroy();
  });

  it.each(['fast', 'immediate'] as const)(
    'loses no committed change and resumes NOTIFY wake-ups (%s shutdown)',
    async (mode) => {
      db = await connectWriter(server.url);
      await db.query(`
        DELETE FROM groups; DELETE FROM contacts; DELETE FROM sync_dirty; DELETE FROM sync_group_state;
        INSERT INTO contacts (id) VALUES ('c');
        DELETE FROM sync_outbox;`);
      // Polling alone would take a minute: prompt delivery after the restart proves the LISTEN is back.
      const rig = createRelayRig({
        databaseUrl: server.url,
        redis: testRedis(),
        pollMs: 60_000,
        batchSize: 20,
      });
      rig.relay.start();
      try {
        await waitUntil(() => relayListening(db), 5_000, 'the relay to LISTEN');
        await db.end();

        const ledger: Ledger = { committed: new Set(), unknown: new Set(), afterRestart: 0 };
        let stopWriting = false;
        const writing = keepWriting(server.url, ledger, () => stopWriting);
        await waitUntil(() => ledger.committed.size >= 10, 5_000, 'commits before the restart');
        await server.restart(mode);
        await waitUntil(() => ledger.afterRestart >= 10, 10_000, 'commits after the restart');
        stopWriting = true;
        await writing;

        db = await connectWriter(server.url);
        await waitUntil(() => relayListening(db), 10_000, 'the relay to LISTEN again');
        // Commits made while nobody listened are caught up on reconnect, not at the next poll.
        const undelivered = async () => {
          const dirty = await dirtyPairs(db);
          return [...ledger.committed].filter((g) => !dirty.has(`${g}/c`) || !rig.enqueueCount(g));
        };
        await waitUntil(async () => (await undelivered()).length === 0, 3_000, 'the catch-up');
        const committedAt = Date.now();
        await db.query(`
          INSERT INTO groups (id, name, type, fields) VALUES ('after', 'A', 'mobile', '{mobile}');
          INSERT INTO group_members VALUES ('after', 'c')`);
        await waitUntil(() => rig.enqueueCount('after') > 0, 5_000, 'the change after the restart');
        const wokenIn = (rig.calls.find((c) => c.groups.includes('after'))?.at ?? 0) - committedAt;
        expect(wokenIn).toBeLessThan(1_000);

        await waitUntil(
          async () => (await db.query('SELECT 1 FROM sync_outbox')).rowCount === 0,
          5_000,
          'the outbox to empty',
        );
        const dirty = await dirtyPairs(db);
        const queued = await rig.queuedGroups();
        expect([...ledger.committed, 'after'].filter((g) => !queued.has(g))).toEqual([]);
        // Whatever reached sync_dirty was committed (a commit whose answer was lost may be either).
        const known = new Set([...ledger.committed, ...ledger.unknown, 'after']);
        expect([...dirty].filter((k) => !known.has(k.split('/')[0] ?? ''))).toEqual([]);
        expect(ledger.committed.size).toBeGreaterThanOrEqual(20);
      } finally {
        await rig.close();
        await db.end().catch(() => undefined);
      }
    },
    60_000,
  );
});
