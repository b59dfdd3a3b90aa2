import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, waitFor, type Harness } from './support/harness.ts';

const TOKEN = 'admin-scrape-release-token-0123456789';

describe('a metrics scrape that times out', () => {
  let h: Harness;
  let base: string;
  beforeAll(async () => {
    h = await createHarness({ env: { ADMIN_TOKEN: TOKEN } });
    base = (await h.startDaemon()).adminUrl;
  });
  afterAll(async () => h?.close());

  /** Sessions still running the scrape's statement (the relay's claim waits on the lock too). */
  async function stuckScrapes(): Promise<number> {
    const res = await h.db.query<{ n: string }>(
      `SELECT count(*) AS n FROM pg_stat_activity
       WHERE datname = current_database() AND state = 'active'
         AND query LIKE '%AS outbox_lag_seconds%' AND pid <> pg_backend_pid()`,
    );
    return Number(res.rows[0]?.n);
  }

  it('gives its connection back: the server cancels the abandoned query', async () => {
    const locker = await h.db.connect();
    try {
      await locker.query('BEGIN');
      // The scrape's count of the outbox now waits behind this lock for as long as it is held.
      await locker.query('LOCK TABLE sync_outbox IN ACCESS EXCLUSIVE MODE');
      const res = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
      expect(res.status).toBe(200);
      expect(await res.text()).toMatch(/afilnet_sync_scrape_errors_total\{source="postgres"\} 1/);
      // The lock is still held: only a server-side cancel can have ended the query.
      await waitFor(async () => (await stuckScrapes()) === 0, 3_000, 'the scrape query to end');
    } finally {
      await locker.query('ROLLBACK');
      locker.release();
    }
    // And the next scrape reads Postgres again.
    const next = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(await next.text()).toMatch(/^afilnet_sync_outbox_rows \d+$/m);
  });
});
