import { PrismaPg } from '@prisma/adapter-pg';
import {
  ColumnTypeEnum,
  DriverAdapterError,
  type SqlDriverAdapter,
  type SqlMigrationAwareDriverAdapterFactory,
  type SqlResultSet,
} from '@prisma/driver-adapter-utils';
import pg from 'pg';

/** Postgres' internal one-byte `"char"` (pg_constraint.contype and friends). */
const CHAR_OID = 18;
const TEXT_OID = 25;

/** For results that had `"char"` columns: their `rows` array → the indexes of those columns. */
const charColumns = new WeakMap<object, number[]>();

/**
 * The driver-adapter factory Prisma's wasm schema engine talks through, built on adapter-pg with
 * its traps (as of 7.10.1) worked around:
 * - `connectToShadowDb()` given a connection string reconnects to the main database, so the
 *   shadow database is one the caller made (`shadowUrl`);
 * - `"char"` columns in the catalog queries are not mapped, so they are reported as Character;
 * - `executeScript` splits on `;`, which cuts `$$` function bodies apart, so scripts go whole;
 * - disposing an adapter does not end its pool, so `close()` ends every pool opened here.
 */
export function createEngineAdapterFactory(
  mainUrl: string,
  shadowUrl: string,
): { factory: SqlMigrationAwareDriverAdapterFactory; close: () => Promise<void> } {
  const pools: pg.Pool[] = [];
  const open = async (url: string): Promise<SqlDriverAdapter> => {
    const pool = new pg.Pool({ connectionString: url, max: 2 });
    // Dropping the shadow database terminates idle connections: expected, not fatal.
    pool.on('error', () => undefined);
    pools.push(pool);
    const inner = await new PrismaPg(noteCharColumns(pool)).connect();
    return wholeScriptAdapter(inner, pool);
  };
  return {
    factory: {
      provider: 'postgres',
      adapterName: '@prisma/adapter-pg',
      connect: () => open(mainUrl),
      connectToShadowDb: () => open(shadowUrl),
    },
    close: async () => {
      await Promise.all(pools.splice(0).map((p) => p.end().catch(() => {})));
    },
  };
}

function wholeScriptAdapter(inner: SqlDriverAdapter, pool: pg.Pool): SqlDriverAdapter {
  return {
    provider: inner.provider,
    adapterName: inner.adapterName,
    queryRaw: async (query) => reportCharAsCharacter(await inner.queryRaw(query)),
    executeRaw: (query) => inner.executeRaw(query),
    // One simple query: Postgres parses the statements itself, `$$` bodies and all.
    executeScript: async (script) => {
      try {
        await pool.query(script);
      } catch (err) {
        throw asDriverAdapterError(err);
      }
    },
    startTransaction: (isolationLevel) => inner.startTransaction(isolationLevel),
    getConnectionInfo: () => inner.getConnectionInfo?.() ?? { supportsRelationJoins: true },
    dispose: () => inner.dispose(),
  };
}

/** Hands Postgres errors to the engine in adapter-pg's shape, so its messages stay readable. */
function asDriverAdapterError(err: unknown): unknown {
  if (!(err instanceof pg.DatabaseError)) return err;
  return new DriverAdapterError({
    kind: 'postgres',
    code: err.code ?? 'unknown',
    severity: err.severity ?? 'ERROR',
    message: err.message,
    detail: err.detail,
    column: err.column,
    hint: err.hint,
  });
}

/**
 * Makes the pool's results pass adapter-pg's type mapping: `"char"` columns are relabelled as
 * text (their values already are strings) and remembered, so `reportCharAsCharacter` can give
 * the engine the Character type its catalog reader insists on (Text makes it panic).
 */
function noteCharColumns(pool: pg.Pool): pg.Pool {
  const query = pool.query.bind(pool) as (
    config: string | pg.QueryConfig,
  ) => Promise<pg.QueryResult | pg.QueryResult[]>;
  const relabelling = async (config: string | pg.QueryConfig) => {
    const result = await query(config);
    if (Array.isArray(result)) return result;
    const indexes = result.fields.flatMap((f, i) => (f.dataTypeID === CHAR_OID ? [i] : []));
    for (const i of indexes) {
      const field = result.fields[i];
      if (field) field.dataTypeID = TEXT_OID;
    }
    if (indexes.length > 0) charColumns.set(result.rows, indexes);
    return result;
  };
  return Object.assign(pool, { query: relabelling });
}

function reportCharAsCharacter(result: SqlResultSet): SqlResultSet {
  const indexes = charColumns.get(result.rows);
  if (!indexes) return result;
  const columnTypes = [...result.columnTypes];
  for (const i of indexes) columnTypes[i] = ColumnTypeEnum.Character;
  return { ...result, columnTypes };
}
