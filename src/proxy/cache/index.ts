/**
 * The embedding cache, built from its settings: its store (memory or Redis, see store.ts) and the
 * `/v1/embeddings` cache stage (embeddings.ts).
 */
import type { EmbeddingAnswer, EmbeddingsRequest, StreamedEmbeddings } from "../../operations/index.js";
import { connectRedis } from "../kv/redis.js";
import type { ModelResolver } from "../model-resolver.js";
import type { CacheStage } from "../pipeline/index.js";
import { type Clock, systemClock } from "../router/clock.js";
import type { Deployment } from "../router/index.js";
import { type AllowedCacheControls, allControlsAllowed } from "./controls.js";
import { embeddingCacheStage } from "./embeddings.js";
import { MemoryCacheStore } from "./memory-store.js";
import { type CacheLogger, RedisCacheStore } from "./redis-store.js";
import type { CacheSettings } from "./settings.js";
import type { CacheStore } from "./store.js";

export type { AllowedCacheControls, CacheControlName } from "./controls.js";
export { isCacheControlName } from "./controls.js";

/**
 * A backstop for the cache's Redis commands: reads have their own, shorter bound (redis-store.ts); this one
 * ends writes that a Redis which stopped answering would otherwise keep in flight.
 */
const COMMAND_TIMEOUT_MS = 5000;

export interface EmbeddingCache {
  stage: CacheStage<EmbeddingsRequest, StreamedEmbeddings, EmbeddingAnswer>;
  /** Resolves once the store is connected, or has failed to; never rejects. */
  ready(): Promise<void>;
  close(): Promise<void>;
}

export interface EmbeddingCacheOptions {
  logger: CacheLogger;
  resolver: ModelResolver;
  deployments: readonly Deployment[];
  /** Entries' TTLs, and Redis's retry pause and timeouts, run on it. */
  clock?: Clock;
  /** By default every control is allowed. */
  allowedControls?: AllowedCacheControls;
}

export function createEmbeddingCache(settings: CacheSettings, options: EmbeddingCacheOptions): EmbeddingCache {
  const clock = options.clock ?? systemClock;
  const store: CacheStore =
    settings.store.type === "local"
      ? new MemoryCacheStore(settings.store.maxBytes, clock)
      : new RedisCacheStore(connectRedis(settings.store.connection, { commandTimeoutMs: COMMAND_TIMEOUT_MS }), clock, options.logger);
  return {
    stage: embeddingCacheStage({
      store,
      settings,
      resolver: options.resolver,
      deployments: options.deployments,
      allowedControls: options.allowedControls ?? allControlsAllowed,
    }),
    ready: () => store.ready(),
    close: () => store.close(),
  };
}
