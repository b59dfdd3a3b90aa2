import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';

/** A database of its own for one test file, dropped by the returned function. */
export async function createTestDatabase(
  opts: { migrate?: boolean } = {},
): Promise<{ url: string; name: string; drop: () => Promise<void> }> {
  const base = new URL(inject('databaseUrl'));
  const name = `t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: base.toString() });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(base.toString());
  url.pathname = `/${name}`;
  if (opts.migrate ?? true) {
    const { migrate } = await import('../../src/db/migrate.ts');
    await migrate(url.toString());
  }
  return {
    url: url.toString(),
    name,
    drop: async () => {
      const c = new pg.Client({ connectionString: base.toString() });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}

/** The Redis URL and a key prefix that no other test file uses. */
/**
 * A pool on a test database. `pool.end()` resolves once its clients are told to end, not once
 * their sockets have closed, so the file's drop (WITH (FORCE)) may still reach one: an idle
 * client's error is the pool's to handle, and here it is expected.
 */
export function testPool(url: string, max = 4): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max });
  pool.on('error', () => undefined);
  return pool;
}

export function testRedis(): { url: string; prefix: string } {
  return { url: inject('redisUrl'), prefix: `t${randomBytes(5).toString('hex')}` };
}
