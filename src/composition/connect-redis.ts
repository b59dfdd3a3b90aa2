import { Redis } from 'ioredis';

/** Redis could not be reached. The message names host and port, never a password. */
export class RedisUnreachableError extends Error {
  override name = 'RedisUnreachableError';
  constructor(redisUrl: string, cause: unknown) {
    const reason = cause instanceof Error && cause.message ? cause.message : String(cause);
    super(`Cannot connect to Redis at ${describeRedis(redisUrl)}: ${reason}`, { cause });
  }
}

function describeRedis(redisUrl: string): string {
  try {
    const url = new URL(redisUrl);
    return `${url.hostname}:${url.port || '6379'}`;
  } catch {
    return '(unparseable REDIS_URL)';
  }
}

/**
 * Connects to Redis once, without retrying, and checks it answers: what an operator command or
 * check needs before it works (the daemon's own connection retries instead). A failure names
 * host and port and the socket's own error, never the URL's password.
 */
export async function connectRedis(redisUrl: string, timeoutMs: number): Promise<Redis> {
  const redis = new Redis(redisUrl, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 1,
    retryStrategy: () => null,
  });
  // Without a listener ioredis prints every connection error. connect() then rejects with a bare
  // "Connection is closed": the socket's own error (ECONNREFUSED, …) says more.
  let socketError: unknown = null;
  redis.on('error', (err) => {
    socketError ??= err;
  });
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    redis.disconnect();
    throw new RedisUnreachableError(redisUrl, socketError ?? err);
  }
  return redis;
}
