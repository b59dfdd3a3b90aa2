import pg from 'pg';
import { createBenchDatabase, round, type BenchStores } from './bench-env.ts';

export interface ScratchResult {
  contacts: number;
  /** One whole evaluation per filter, from no members: matched, seconds (the whole diff). */
  runs: { filter: string; matched: number; seconds: number }[];
  /** A second evaluation with nothing changed: what a scheduled refresh costs. */
  unchangedSeconds: number;
}

/**
 * A segment over `contacts` contacts evaluated from scratch: `sync_segment_evaluate`, the one
 * statement the daemon runs when a segment is set, inserting every matching member (its capture
 * rows included). No daemon: the figure is the database's work alone.
 */
export async function measureScratch(
  stores: BenchStores,
  opts: { contacts: number },
): Promise<ScratchResult> {
  const database = await createBenchDatabase(stores.databaseUrl);
  const db = new pg.Pool({ connectionString: database.url, max: 2 });
  try {
    await db.query(
      `INSERT INTO contacts (id, mobile, attributes)
       SELECT 'c' || i, '346' || lpad(i::text, 8, '0'),
              jsonb_build_object('name', 'Name ' || i, 'city', (ARRAY['Madrid','Sevilla','Bilbao','Lyon'])[1 + i % 4],
                                 'score', (i::bigint * 7919 % 100)::text)
       FROM generate_series(1, $1::int) i`,
      [opts.contacts],
    );
    await db.query('VACUUM ANALYZE contacts');
    const filters = [
      `c.attributes->>'city' = 'Madrid' and (c.attributes->>'score')::int > 50`,
      `c.mobile is not null`,
    ];
    const runs: ScratchResult['runs'] = [];
    let unchangedSeconds = 0;
    for (const [k, filter] of filters.entries()) {
      await db.query(
        `INSERT INTO groups (id, name, type, fields, segment) VALUES ($1, $1, 'mobile', '{mobile,name}', $2)`,
        [`s${k}`, filter],
      );
      const started = performance.now();
      const res = await db.query<{ size: number }>('SELECT size FROM sync_segment_evaluate($1)', [
        `s${k}`,
      ]);
      runs.push({
        filter,
        matched: res.rows[0]?.size ?? 0,
        seconds: round((performance.now() - started) / 1000, 2),
      });
      if (k === filters.length - 1) {
        const again = performance.now();
        await db.query('SELECT size FROM sync_segment_evaluate($1)', [`s${k}`]);
        unchangedSeconds = round((performance.now() - again) / 1000, 2);
      }
    }
    return { contacts: opts.contacts, runs, unchangedSeconds };
  } finally {
    await db.end();
    await database.drop();
  }
}
