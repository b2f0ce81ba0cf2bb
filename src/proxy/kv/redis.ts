/**
 * The one place the proxy opens Redis connections (router state, the embedding cache). Every connection is
 * made so that a slow or absent Redis cannot stall a request: while disconnected, commands fail at once
 * instead of queueing; connected but slow, they fail after the caller's command timeout. ioredis keeps
 * reconnecting in the background, and each user decides how it goes on without Redis meanwhile.
 */
import { Redis, type RedisOptions } from "ioredis";

/** Where a Redis is: a `redis://` or `rediss://` URL, or a host, port and optional password. */
export type RedisConnection = { url: string } | { host: string; port: number; password: string | undefined };

export interface ConnectOptions {
  /** How long one command may take before it fails. */
  commandTimeoutMs: number;
}

export function connectRedis(connection: RedisConnection, options: ConnectOptions): Redis {
  const base: RedisOptions = {
    enableOfflineQueue: false,
    commandTimeout: options.commandTimeoutMs,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
  };
  const redis =
    "url" in connection
      ? new Redis(connection.url, base)
      : new Redis({ ...base, host: connection.host, port: connection.port, ...(connection.password ? { password: connection.password } : {}) });
  // Connection errors surface as failed commands, which every user tolerates; without a listener ioredis
  // would also print each one as an unhandled 'error' event.
  redis.on("error", () => undefined);
  return redis;
}
