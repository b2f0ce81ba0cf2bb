/**
 * Rate limits — `rpm_limit`, `tpm_limit`, `max_parallel_requests` of keys and teams, `rpm`/`tpm` of
 * deployments — counted in one window (window.ts says which and why), in this process or shared by every
 * instance through Redis (redis.ts), behind one contract (types.ts).
 */
import { connectRedis, type RedisConnection, redisAddress } from "../kv/redis.js";
import type { Clock } from "../router/clock.js";
import type { RouterLogger } from "../router/logger.js";
import { MemoryLimiter } from "./memory.js";
import { RedisLimiter } from "./redis.js";
import type { Limiter } from "./types.js";

export { admitLimits } from "./admit.js";
export { LIMIT_CODES, LimitExceededError, limitExceeded } from "./errors.js";
export { MemoryLimiter } from "./memory.js";
export { quotaOf, rateLimitHeaders, tightest } from "./quota.js";
export { RedisLimiter } from "./redis.js";
export { limitScopes } from "./scopes.js";
export type { Admission, Limiter, LimiterState, Limits, Quota, Refusal, Scope, ScopeKind, Ticket, Usage } from "./types.js";
export { isLimited, scopeKey } from "./types.js";

const DEFAULT_NAMESPACE = "xgate:limits:";

/**
 * A command slower than this fails, and the request is admitted by this instance's own counts: admission
 * must never hold a request up for long, and a Redis nearby answers in well under a millisecond.
 */
export const LIMIT_COMMAND_TIMEOUT_MS = 250;

export interface CreateLimiterOptions {
  logger?: RouterLogger;
  clock?: Clock;
  namespace?: string;
  commandTimeoutMs?: number;
}

/** The limiter the settings call for: shared through Redis when they name one, else this process's own. */
export function createLimiter(connection: RedisConnection | undefined, options: CreateLimiterOptions = {}): Limiter {
  if (connection === undefined) return new MemoryLimiter(options.clock ? { clock: options.clock } : {});
  const redis = connectRedis(connection, { commandTimeoutMs: options.commandTimeoutMs ?? LIMIT_COMMAND_TIMEOUT_MS });
  return new RedisLimiter(redis, {
    namespace: options.namespace ?? DEFAULT_NAMESPACE,
    where: redisAddress(connection),
    ownsConnection: true,
    ...(options.clock && { clock: options.clock }),
    ...(options.logger && { logger: options.logger }),
  });
}
