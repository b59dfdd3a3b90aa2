import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createScrapeMetrics, SCRAPE_SQL } from '../src/admin/scrape-metrics.ts';
import { createMetrics } from '../src/observability/metrics.ts';
import { parsePrometheusText, type Sample } from './support/prometheus-text.ts';
import { createTestDatabase, testPool, testRedis } from './support/stores.ts';

let db: { url: string; drop: () => Promise<void> };
let pool: pg.Pool;
let redis: Redis;
let queue: Queue;

beforeAll(async () => {
  db = await createTestDatabase();
  pool = testPool(db.url, 3);
  const r = testRedis();
  redis = new Redis(r.url, { maxRetriesPerRequest: null });
  queue = new Queue('group-sync', { connection: redis, prefix: r.prefix });
});

afterAll(async () => {
  await queue?.obliterate({ force: true });
  await queue?.close();
  redis?.disconnect();
  await pool?.end();
  await db?.drop();
});

async function scrape(): Promise<Sample[]> {
  const metrics = createMetrics();
  const scraper = createScrapeMetrics({
    pool,
    queue,
    registry: metrics.registry,
    allowedRate: () => Promise.resolve(4),
    allowedRateGauge: metrics.allowedRate,
    logger: pino({ level: 'silent' }),
  });
  const { samples, errors } = parsePrometheusText(await scraper.render());
  // prom-client prints an event-loop statistic without samples yet as `Nan`, which Prometheus
  // reads (its float parser ignores case) and the strict test parser does not.
  expect(errors.filter((e) => !/ Nan$/.test(e))).toEqual([]);
  return samples;
}
const value = (samples: Sample[], name: string, labels: Record<string, string> = {}) =>
  samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((n, s) => n + s.value, 0);

describe('metric names', () => {
  it('serves Node’s default metrics under their standard names, without the project prefix', async () => {
    const names = new Set((await scrape()).map((s) => s.name));
    expect(names).toContain('process_cpu_seconds_total');
    expect(names).toContain('nodejs_eventloop_lag_seconds');
    expect([...names].filter((n) => /^afilnet_sync_(process|nodejs)_/.test(n))).toEqual([]);
  });

  it('carries units in the names: seconds, calls per second', async () => {
    const samples = await scrape();
    const names = new Set(samples.map((s) => s.name));
    expect(names).toContain('afilnet_sync_api_allowed_calls_per_second');
    expect(value(samples, 'afilnet_sync_api_allowed_calls_per_second')).toBe(4);
    expect(names).not.toContain('afilnet_sync_allowed_rate');
    const help = createMetrics()
      .registry.getMetricsAsArray()
      .map((m) => m.name);
    expect(help).toContain('afilnet_sync_api_call_duration_seconds');
  });
});

describe('freshness', () => {
  it('gives the age of the oldest unsynced change, and 0 when everything is synced', async () => {
    expect(value(await scrape(), 'afilnet_sync_oldest_unsynced_change_age_seconds')).toBe(0);
    await pool.query(`
      INSERT INTO sync_dirty (group_id, contact_id, seq, marked_at) VALUES
        ('ga', 'c1', nextval('sync_dirty_seq'), now() - interval '300 seconds'),
        ('ga', 'c2', nextval('sync_dirty_seq'), now() - interval '10 seconds'),
        ('gb', 'c3', nextval('sync_dirty_seq'), now() - interval '100 seconds')`);
    await pool.query(
      `INSERT INTO sync_dirty (group_id, contact_id, seq, bulk, marked_at)
       VALUES ('gb', 'c4', nextval('sync_dirty_seq'), true, now() - interval '200 seconds')`,
    );
    const age = value(await scrape(), 'afilnet_sync_oldest_unsynced_change_age_seconds');
    expect(age).toBeGreaterThanOrEqual(300);
    expect(age).toBeLessThan(330);
    await pool.query(`DELETE FROM sync_dirty`);
  });
});

describe('scrape cost', () => {
  it('reads no table in proportion to the members: every member-sized table through an index', async () => {
    await pool.query(`
      INSERT INTO sync_member_state (group_id, contact_id, synced_fields, status)
        SELECT 'g' || (i % 5), 'c' || i, '{}'::jsonb, CASE WHEN i % 1000 = 0 THEN 'failed' ELSE 'synced' END
        FROM generate_series(1, 20000) i;
      INSERT INTO sync_dirty (group_id, contact_id, seq)
        SELECT 'g' || (i % 5), 'c' || i, nextval('sync_dirty_seq') FROM generate_series(1, 30) i;
      ANALYZE sync_member_state; ANALYZE sync_dirty;`);
    const samples = await scrape();
    expect(value(samples, 'afilnet_sync_members', { state: 'failed' })).toBe(20);
    expect(value(samples, 'afilnet_sync_members', { state: 'pending' })).toBe(30);
    for (const sql of SCRAPE_SQL) {
      const plan = await pool.query<{ 'QUERY PLAN': unknown }>(`EXPLAIN (FORMAT JSON) ${sql}`);
      const text = JSON.stringify(plan.rows[0]?.['QUERY PLAN']);
      expect(text, sql).not.toMatch(
        /"Node Type":"Seq Scan","[^}]*"Relation Name":"sync_member_state"/,
      );
      expect(text, sql).not.toMatch(/"Relation Name":"(group_members|contacts)"/);
    }
  });
});
