import type pg from 'pg';

/** Namespace of the daemon's per-group advisory locks (the first key of the two-int form). */
const LOCK_CLASS = 72707370;

export class GroupBusyError extends Error {
  override name = 'GroupBusyError';
}

/**
 * Runs `fn` holding a session-level advisory lock on the group. BullMQ already runs one job per
 * group at a time; this is the safety net for the rare case where a job's lock expired while its
 * worker was still alive (a long event-loop stall) and another replica took it over. The lock dies
 * with the session, so a killed process never leaves it behind.
 */
export async function withGroupLock<T>(
  pool: pg.Pool,
  groupId: string,
  fn: (lockLost: () => boolean) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  // A checked-out client has no listener of its own: without one, a connection killed by a
  // Postgres restart raises an unhandled 'error' and takes the process down.
  let broken: Error | undefined;
  const onError = (err: Error) => {
    broken = err;
  };
  client.on('error', onError);
  let locked = false;
  try {
    const res = await client.query<{ locked: boolean }>(
      'SELECT pg_try_advisory_lock($1, hashtext($2)) AS locked',
      [LOCK_CLASS, groupId],
    );
    locked = res.rows[0]?.locked ?? false;
    if (!locked) throw new GroupBusyError(`group ${groupId} is being synced elsewhere`);
    return await fn(() => broken !== undefined);
  } finally {
    if (locked && !broken) {
      await client
        .query('SELECT pg_advisory_unlock($1, hashtext($2))', [LOCK_CLASS, groupId])
        .catch((err: Error) => (broken = err));
    }
    client.off('error', onError);
    client.release(broken);
  }
}
