import pg from 'pg';
import { importContacts } from '../src/operator/import/import-contacts.ts';
const pool = new pg.Pool({
  connectionString: 'postgres://postgres:postgres@127.0.0.1:5432/opsmoke',
});
await pool.query("DELETE FROM contacts WHERE id LIKE 'crm-%'");
const t = performance.now();
let last = t;
const s = await importContacts(
  { pool },
  {
    file: '/tmp/bench1m.csv',
    onProgress: (p) => {
      console.log(p.phase, p.read, ((performance.now() - t) / 1000).toFixed(2));
    },
    progressEveryMs: 1000,
  },
);
console.log(s.seconds, s.rowsPerSecond);
await pool.end();
