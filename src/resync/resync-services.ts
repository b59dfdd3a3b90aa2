import { openServices } from '../composition/open-services.ts';
import type { DaemonConfig } from '../config/config.ts';
import { assertMigrated } from '../db/migrate.ts';
import type { Logger } from '../observability/logger.ts';
import type { ResyncServices } from './start-resync.ts';

/** Services for a resync run from outside the daemon, and how to close them. */
export interface OpenResyncServices extends ResyncServices {
  close(): Promise<void>;
}

/**
 * Connects what a resync needs outside the daemon (the CLI), composed like the daemon's own:
 * Postgres, the daemon's rate budget and group queue in Redis, and the Afilnet client. The budget
 * is the daemon's own key, so the CLI's reads wait their turn behind the daemon's live calls
 * instead of adding to the load.
 */
export async function openResyncServices(
  config: Readonly<DaemonConfig>,
  logger: Logger,
): Promise<OpenResyncServices> {
  await assertMigrated(config.DATABASE_URL);
  const services = openServices(config, logger, {
    applicationName: 'afilnet-sync-resync',
    poolMax: 4,
  });
  const { pool, client, caller, queue } = services;
  return {
    pool,
    client,
    caller,
    queue,
    logger,
    remoteRemovals: config.REMOTE_REMOVALS,
    close: () => services.close(),
  };
}
