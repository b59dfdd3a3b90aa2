import { createReadStream } from 'node:fs';
import { readLines } from '/work/main/src/operator/import/read-lines.ts';
import { csvRecords } from '/work/main/src/operator/import/csv-records.ts';
import { checkContact } from '/work/main/src/operator/import/contact-record.ts';
import { encodeStagingRow } from '/work/main/src/operator/import/staging-table.ts';
const file = process.argv[2]!;
let t = performance.now(); let n = 0;
for await (const b of readLines(createReadStream(file, { highWaterMark: 1 << 20 }), 1e6)) n += b.length;
console.log('lines', n, ((performance.now() - t)/1000).toFixed(2));
t = performance.now(); n = 0;
for await (const b of csvRecords(readLines(createReadStream(file, { highWaterMark: 1 << 20 }), 1e6))) n += b.length;
console.log('records', n, ((performance.now() - t)/1000).toFixed(2));
t = performance.now(); n = 0; let len = 0;
for await (const b of csvRecords(readLines(createReadStream(file, { highWaterMark: 1 << 20 }), 1e6))) for (const r of b) { if ('input' in r) { const c = checkContact(r.input); if (c.ok) len += encodeStagingRow(r.line, c.record).length; n++; } }
console.log('checked+encoded', n, len, ((performance.now() - t)/1000).toFixed(2));
