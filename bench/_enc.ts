import { createReadStream, writeFileSync } from 'node:fs';
import { readLines } from '../src/operator/import/read-lines.ts';
import { csvRecords } from '../src/operator/import/csv-records.ts';
import { checkContact } from '../src/operator/import/contact-record.ts';
import { encodeStagingRow } from '../src/operator/import/staging-table.ts';
const parts: string[] = [];
for await (const b of csvRecords(readLines(createReadStream('/tmp/bench1m.csv', { highWaterMark: 1 << 20 }), 1e6))) for (const r of b) { if ('input' in r) { const c = checkContact(r.input); if (c.ok) parts.push(encodeStagingRow(r.line, c.record)); } }
writeFileSync('/tmp/staging1m.txt', parts.join(''));
