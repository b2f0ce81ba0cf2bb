/**
 * The one place the proxy opens Redis connections (router state, limits, budgets, the embedding cache, key
 * invalidation), names them and waits for them. Every connection is made so that a slow or absent Redis
 * cannot stall a request: while disconnected, commands fail at once instead of queueing; connected but
 * slow, they fail after the caller's command timeout. ioredis keeps reconnecting in the background, and
 * each user decides how it goes on without Redis meanwhile (limits and budgets: redis-fallback.ts).
 */
import type { ChainableCommander, Redis, RedisOptions } from "ioredis";
import type IoredisModule from "ioredis";
import { loadOnUse } from "../load-on-use.js";

/** Loaded with the first connection: a proxy without Redis never holds it (~2 MB of heap). */
const ioredis = loadOnUse<typeof IoredisModule>("ioredis");

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
  const { Redis: RedisClient } = ioredis();
  const redis =
    "url" in connection
      ? new RedisClient(connection.url, base)
      : new RedisClient({ ...base, host: connection.host, port: connection.port, ...(connection.password ? { password: connection.password } : {}) });
  // Connection errors surface as failed commands, which every user tolerates; without a listener ioredis
  // would also print each one as an unhandled 'error' event.
  redis.on("error", () => undefined);
  return redis;
}

/** Where a connection points, without its password: for logs and readiness. */
export function redisAddress(connection: RedisConnection): string {
  if (!("url" in connection)) return `${connection.host}:${connection.port}`;
  try {
    return new URL(connection.url).host;
  } catch {
    return "the configured URL";
  }
}

/** The connection's next outcome: undefined once it is ready, else the error that ended the attempt. */
export function connectionOutcome(redis: Redis): Promise<Error | undefined> {
  return new Promise((resolve) => {
    const settle = (error?: Error): void => {
      redis.off("ready", onReady);
      redis.off("error", settle);
      redis.off("end", onEnd);
      resolve(error);
    };
    const onReady = (): void => settle();
    const onEnd = (): void => settle(new Error("Redis connection closed"));
    redis.once("ready", onReady);
    redis.once("error", settle);
    redis.once("end", onEnd);
  });
}

/** Runs the pipeline, failing with its first command's error as a single command would. */
export async function execAll(pipeline: ChainableCommander): Promise<void> {
  const results = await pipeline.exec();
  const failed = results?.find(([error]) => error !== null);
  if (failed) throw failed[0];
}
