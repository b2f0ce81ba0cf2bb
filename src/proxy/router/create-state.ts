/**
 * Chooses where the router's state lives: Redis when the settings name one, so that all instances share
 * cooldowns and load; else this process.
 */
import { connectRedis, type RedisConnection } from "../kv/redis.js";
import type { Clock } from "./clock.js";
import type { RouterSettingsInput } from "./config.js";
import { MemoryRouterState } from "./memory-state.js";
import { RedisRouterState } from "./redis-state.js";
import type { RouterState } from "./state.js";

const DEFAULT_NAMESPACE = "xgate:router:";

/** A command slower than this fails, and the router goes on without shared state for that request. */
const COMMAND_TIMEOUT_MS = 1000;

/**
 * The Redis `router_settings` names — `redis_url`, or `redis_host`/`redis_port`/`redis_password` — or
 * undefined when they name none.
 */
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

export interface CreateStateOptions {
  namespace?: string;
  clock?: Clock;
}

export function createRouterState(connection: RedisConnection | undefined, options: CreateStateOptions = {}): RouterState {
  if (connection === undefined) return new MemoryRouterState();
  return new RedisRouterState(connectRedis(connection, { commandTimeoutMs: COMMAND_TIMEOUT_MS }), {
    namespace: options.namespace ?? DEFAULT_NAMESPACE,
    ownsConnection: true,
    ...(options.clock ? { clock: options.clock } : {}),
  });
}
