import pg from 'pg';

/** The database could not be reached or refused the connection. The message names no secret. */
export class DatabaseUnreachableError extends Error {
  constructor(
    readonly where: string,
    cause: unknown,
  ) {
    super(`Cannot connect to the database at ${where}: ${reasonOf(cause)}`, { cause });
    this.name = 'DatabaseUnreachableError';
  }
}

/** Node reports a refused dual-stack connect as an AggregateError with an empty message. */
function reasonOf(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  if (err.message) return err.message;
  const code = (err as NodeJS.ErrnoException).code;
  if (code) return code;
  if (err instanceof AggregateError && err.errors[0] instanceof Error)
    return reasonOf(err.errors[0]);
  return 'connection failed';
}

/** `host:port/database` of a connection string: enough to say where, never the password. */
export function describeDatabase(databaseUrl: string): string {
  try {
    const url = new URL(databaseUrl);
    return `${url.hostname}:${url.port || '5432'}${url.pathname}`;
  } catch {
    return '(unparseable DATABASE_URL)';
  }
}

/** The same server, another database: used for throwaway databases next to the main one. */
export function withDatabaseName(databaseUrl: string, name: string): string {
  const url = new URL(databaseUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/**
 * A connected client, or a DatabaseUnreachableError that says where it tried. A dead host fails
 * within `timeoutMs` rather than hanging a deploy.
 */
export async function connectClient(databaseUrl: string, timeoutMs = 10_000): Promise<pg.Client> {
  const client = new pg.Client({
    connectionString: databaseUrl,
    connectionTimeoutMillis: timeoutMs,
    application_name: 'afilnet-sync-migrate',
  });
  // An idle client whose server goes away emits 'error'; unhandled, that would kill the process.
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (err) {
    await client.end().catch(() => undefined);
    throw new DatabaseUnreachableError(describeDatabase(databaseUrl), err);
  }
  return client;
}
