import type pg from 'pg';

/**
 * First key of the two-key advisory lock space used for resync plans; the second key is
 * hashtext(group id). Two keys keep it apart from single-key locks such as the migration lock.
 */
const RESYNC_LOCK_CLASS = 0x52535943; // 'RSYC'

/** Another session is planning a resync of this group right now. */
export class GroupBusyError extends Error {
  override name = 'GroupBusyError';
  constructor(readonly groupId: string) {
    super(`group ${groupId}: another resync is reading or diffing it right now`);
  }
}

/** A session holding one group's resync lock; the lock lives and dies with the session. */
export interface GroupLock {
  client: pg.PoolClient;
  release(): Promise<void>;
}

/**
 * Takes the group's resync lock on a connection of its own, which the caller then plans on.
 * `waitMs` 0 tries once and throws GroupBusyError; otherwise waits up to that long (lock_timeout)
 * — a worker waits for a dry run to finish rather than failing its job.
 */
export async function lockGroup(pool: pg.Pool, groupId: string, waitMs = 0): Promise<GroupLock> {
  const client = await pool.connect();
  try {
    let locked: boolean;
    if (waitMs === 0) {
      const res = await client.query<{ ok: boolean }>(
        'SELECT pg_try_advisory_lock($1, hashtext($2)) AS ok',
        [RESYNC_LOCK_CLASS, groupId],
      );
      locked = res.rows[0]?.ok === true;
    } else {
      await client.query(`SELECT set_config('lock_timeout', $1, false)`, [`${waitMs}ms`]);
      locked = await client
        .query('SELECT pg_advisory_lock($1, hashtext($2))', [RESYNC_LOCK_CLASS, groupId])
        .then(
          () => true,
          (err: { code?: string }) => {
            if (err.code === '55P03') return false; // lock_not_available: the wait timed out
            throw err;
          },
        );
      await client.query('RESET lock_timeout');
    }
    if (!locked) throw new GroupBusyError(groupId);
  } catch (err) {
    client.release();
    throw err;
  }
  return {
    client,
    async release() {
      try {
        await client.query('SELECT pg_advisory_unlock($1, hashtext($2))', [
          RESYNC_LOCK_CLASS,
          groupId,
        ]);
        client.release();
      } catch (err) {
        // A session we cannot unlock on is closed instead, which frees the lock too.
        client.release(err instanceof Error ? err : true);
      }
    },
  };
}
