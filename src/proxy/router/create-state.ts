/**
 * Chooses where the router's state lives: Redis when the settings name one, so that all instances share
 * cooldowns and load; else this process.
 */
import { Redis, type RedisOptions } from "ioredis";
import type { Clock } from "./clock.js";
import type { RouterSettingsInput } from "./config.js";
import { MemoryRouterState } from "./memory-state.js";
import { RedisRouterState } from "./redis-state.js";
import type { RouterState } from "./state.js";

const DEFAULT_NAMESPACE = "xgate:router:";

/**
 * A slow or absent Redis must not stall requests: while disconnected, commands fail at once instead of
 * queueing; connected but slow, they fail after a second. The router then goes on without shared state for
 * that request, and ioredis keeps reconnecting in the background.
 */
const CONNECTION_OPTIONS: RedisOptions = {
  enableOfflineQueue: false,
  commandTimeout: 1000,
  maxRetriesPerRequest: 1,
  connectTimeout: 2000,
};

/** Where a Redis is, as `router_settings` names it: `redis_url`, or `redis_host`/`redis_port`/`redis_password`. */
export type RedisConnection = { url: string } | { host: string; port: number; password: string | undefined };

/** The Redis the settings name, or undefined when they name none. */
export function redisConnectionFrom(settings: RouterSettingsInput | null | undefined): RedisConnection | undefined {
  if (!settings) return undefined;
  if (settings.redis_url) return { url: settings.redis_url };
  if (!settings.redis_host) return undefined;
  const port = settings.redis_port === undefined || settings.redis_port === null ? 6379 : Number(settings.redis_port);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) {
    throw new Error(`router_settings.redis_port must be a port number, not '${String(settings.redis_port)}'.`);
  }
  return { host: settings.redis_host, port, password: settings.redis_password || undefined };
}

function connect(redis: RedisConnection): Redis {
  if ("url" in redis) return new Redis(redis.url, CONNECTION_OPTIONS);
  return new Redis({ ...CONNECTION_OPTIONS, host: redis.host, port: redis.port, ...(redis.password ? { password: redis.password } : {}) });
}

export interface CreateStateOptions {
  namespace?: string;
  clock?: Clock;
}

export function createRouterState(connection: RedisConnection | undefined, options: CreateStateOptions = {}): RouterState {
  if (connection === undefined) return new MemoryRouterState();
  const redis = connect(connection);
  // Connection errors surface as failed commands, which the router tolerates; without a listener ioredis
  // would also print each one as an unhandled 'error' event.
  redis.on("error", () => undefined);
  return new RedisRouterState(redis, {
    namespace: options.namespace ?? DEFAULT_NAMESPACE,
    ownsConnection: true,
    ...(options.clock ? { clock: options.clock } : {}),
  });
}
