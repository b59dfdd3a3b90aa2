import pg from 'pg';
import { describe, expect, inject, it } from 'vitest';
import { loadDemoConfig } from '../src/config/config.ts';
import { runDemo } from '../src/demo/run-demo.ts';

describe('npm run demo', () => {
  it('syncs every good member of a small demo with fewer calls than one per change', async () => {
    const lines: string[] = [];
    const config = loadDemoConfig({
      DATABASE_URL: inject('databaseUrl'),
      REDIS_URL: inject('redisUrl'),
    });
    const summary = await runDemo(config, {
      contacts: 200,
      rate: 500,
      timeoutMs: 60_000,
      logLevel: 'silent',
      keepDatabase: false,
      print: (line) => lines.push(line),
    });

    // 200 in Customers, 100 in Newsletter, 20 in VIP, plus the two bad contacts in two groups each.
    expect(summary.naive).toEqual({
      groups: 3,
      memberships: 324,
      // 10 renamed × 3 groups, 10 moved × 2 groups, 10 scored × 1 group
      updates: 60,
      // 8 removed from Customers, 2 contacts deleted (each in Customers only)
      deletes: 10,
      total: 397,
    });
    expect(summary.members).toEqual({ current: 314, expected: 311, synced: 311, remote: 311 });
    expect(summary.apiCalls.byMethod).toEqual({
      creategroup: 3,
      addcontactlist: 3,
      // renames in all three groups, city only where the column exists; the score costs nothing
      modifycontact: 40,
      deletecontact: 10,
    });
    expect(summary.apiCalls.total).toBe(56);
    expect(summary.apiCalls.total).toBeLessThan(summary.naive.total);
    expect(summary.failures.map((f) => [f.groupId, f.contactId, f.error.split(':')[0]])).toEqual([
      ['demo-customers', 'bad-no-mobile', 'MISSING_MAIN_FIELD'],
      ['demo-customers', 'bad-too-long', 'VALUE_TOO_LONG'],
      ['demo-newsletter', 'bad-too-long', 'VALUE_TOO_LONG'],
    ]);
    expect(lines).toContain('Demo summary');
    expect(lines.some((l) => /calls saved: +86%/.test(l))).toBe(true);

    const admin = new pg.Client({ connectionString: inject('databaseUrl') });
    await admin.connect();
    const left = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [
      summary.database,
    ]);
    await admin.end();
    expect(left.rowCount).toBe(0);
  });
});
