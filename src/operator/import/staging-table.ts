import pg from 'pg';
import type { ContactRecord } from './contact-record.ts';
import { escapeCopy } from './copy-out.ts';
import type { CsvHeader } from './csv-records.ts';

/**
 * A temporary table: private to the import's session (two imports never mix), never WAL-logged,
 * dropped when the import ends, or with the session if the process dies. Rows land here through
 * COPY, then reach `contacts` in chunks (apply-in-chunks.ts), one transaction each.
 */
export const STAGING_TABLE = 'afilnet_import_staging';

/**
 * How a file's rows are staged. `source` reads them back as the import's common shape: line,
 * id, mobile, email, has_mobile, has_email (false: the file has no such value, the stored one
 * stays), attributes (jsonb: the ones the row sets, scalars) and unset (text[]: the names it
 * empties, to remove from the stored ones; never in attributes too).
 */
export interface StagingTable {
  create: string;
  copy: string;
  /** The SELECT; `from` may sample the table (`… TABLESAMPLE …`). */
  source: (from?: string) => string;
}

const dropFirst = `DROP TABLE IF EXISTS pg_temp.${STAGING_TABLE};`;

/**
 * NDJSON rows are checked and shaped in JS (JSON.parse is needed to check them anyway): one
 * COPY text row each, made by encodeStagingRow.
 */
export const NDJSON_STAGING: StagingTable = {
  create: `${dropFirst}
CREATE TEMP TABLE ${STAGING_TABLE} (
  line bigint NOT NULL,
  id text NOT NULL,
  mobile text,
  email text,
  has_mobile boolean NOT NULL,
  has_email boolean NOT NULL,
  attributes jsonb NOT NULL,
  unset text[]
)`,
  copy: `COPY ${STAGING_TABLE} (line, id, mobile, email, has_mobile, has_email, attributes, unset) FROM STDIN`,
  source: (from = STAGING_TABLE) => `SELECT line, id, mobile, email, has_mobile, has_email,
  attributes, COALESCE(unset, '{}'::text[]) AS unset FROM ${from}`,
};

/** A text[] literal: every element quoted, so commas, braces and spaces in names survive. */
const arrayLiteral = (items: string[]): string =>
  `{${items.map((s) => `"${s.replace(/["\\]/g, '\\$&')}"`).join(',')}}`;

/** One NDJSON staging row in COPY text format, newline included. */
export function encodeStagingRow(line: number, r: ContactRecord): string {
  return (
    `${line}\t${escapeCopy(r.id)}\t${r.mobile ?? '\\N'}\t${r.email === null ? '\\N' : escapeCopy(r.email)}\t` +
    `${r.hasMobile ? 't' : 'f'}\t${r.hasEmail ? 't' : 'f'}\t${escapeCopy(JSON.stringify(r.attributes))}\t` +
    `${r.unset.length === 0 ? '\\N' : escapeCopy(arrayLiteral(r.unset))}\n`
  );
}

/** jsonb_build_object takes at most 100 arguments: larger objects are built in parts. */
const PAIRS_PER_CALL = 50;

/**
 * CSV rows are staged as the file has them: the line number, then one text column per CSV
 * column, in file order (empty for an empty value: COPY text rows carry no NULL). The good rows
 * arrive checked; attributes are made into jsonb here, in one set-based pass, rather than as
 * a JSON string per row in JS. A column the file lacks keeps the stored value.
 */
export function csvStaging(header: CsvHeader): StagingTable {
  const col = (i: number) => `c${i + 1}`;
  const columns = header.names.map((_, i) => `${col(i)} text NOT NULL`);
  const main = (i: number) => (i < 0 ? 'NULL::text' : `NULLIF(${col(i)}, '')`);
  const attrs = header.attributes.map(([name, i]) => [pg.escapeLiteral(name), col(i)] as const);
  const build = (value: (c: string) => string) => {
    const parts: string[] = [];
    for (let k = 0; k < attrs.length; k += PAIRS_PER_CALL) {
      const pairs = attrs.slice(k, k + PAIRS_PER_CALL).map(([name, c]) => `${name}, ${value(c)}`);
      parts.push(`jsonb_build_object(${pairs.join(', ')})`);
    }
    return parts.join(' || ');
  };
  // Most rows fill every column: the object is built once, and the emptied names (the array,
  // and the nulls to strip) only for the others.
  const full = attrs.map(([, c]) => `${c} <> ''`).join(' AND ');
  const attributes =
    attrs.length === 0
      ? `'{}'::jsonb`
      : `CASE WHEN ${full} THEN ${build((c) => c)}
    ELSE jsonb_strip_nulls(${build((c) => `NULLIF(${c}, '')`)}) END`;
  const unset =
    attrs.length === 0
      ? `'{}'::text[]`
      : `CASE WHEN ${full} THEN '{}'::text[]
    ELSE array_remove(ARRAY[${attrs.map(([name, c]) => `CASE WHEN ${c} = '' THEN ${name} END`).join(', ')}]::text[], NULL) END`;
  return {
    create: `${dropFirst}
CREATE TEMP TABLE ${STAGING_TABLE} (line bigint NOT NULL, ${columns.join(', ')})`,
    copy: `COPY ${STAGING_TABLE} FROM STDIN`,
    source: (
      from = STAGING_TABLE,
    ) => `SELECT line, ${col(header.id)} AS id, ${main(header.mobile)} AS mobile,
  ${main(header.email)} AS email, ${header.mobile >= 0} AS has_mobile, ${header.email >= 0} AS has_email,
  ${attributes} AS attributes,
  ${unset} AS unset
FROM ${from}`,
  };
}
