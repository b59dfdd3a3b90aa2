/**
 * Rejects after `ms` with a message naming `what`. Probes and scrapes use it so a dead Postgres or
 * Redis fails them in bounded time: ioredis queues commands while disconnected and a pg pool waits
 * for a connection without limit, so neither would ever answer on its own.
 */
export function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
