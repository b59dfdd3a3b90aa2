import { randomBytes } from 'node:crypto';
import { connectClient, withDatabaseName } from './connect.ts';

/** Every throwaway database starts with this, so a leftover one (a killed run) is recognisable. */
export const THROWAWAY_PREFIX = 'afilnet_sync_shadow_';

/**
 * Creates an empty database on DATABASE_URL's server, hands its URL to `use`, and drops it
 * afterwards whatever happened. `use` must have closed its connections by the time it settles;
 * the drop forces out any it left.
 */
export async function withThrowawayDatabase<T>(
  databaseUrl: string,
  use: (url: string, name: string) => Promise<T>,
  log: (line: string) => void = () => undefined,
): Promise<T> {
  const name = `${THROWAWAY_PREFIX}${randomBytes(6).toString('hex')}`;
  const admin = await connectClient(databaseUrl);
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
    log(`created throwaway database ${name}`);
    try {
      return await use(withDatabaseName(databaseUrl, name), name);
    } finally {
      await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      log(`dropped throwaway database ${name}`);
    }
  } finally {
    await admin.end().catch(() => {});
  }
}
