/** The embedding cache as the settings resolve it from `litellm_settings.cache` and `cache_params`. */
import type { RedisConnection } from "../kv/redis.js";

/** Where entries live: this process's memory, bounded in bytes, or a Redis every instance shares. */
export type CacheStoreSettings = { type: "local"; maxBytes: number } | { type: "redis"; connection: RedisConnection };

export interface CacheSettings {
  store: CacheStoreSettings;
  /** Every key starts with it and a colon; a request's `cache.namespace` replaces it. */
  namespace: string;
  /** How long an entry lives; undefined: until it is evicted (local) or Redis drops it. */
  ttlSeconds: number | undefined;
}

/** The namespace when `cache_params.namespace` is not set. */
export const DEFAULT_CACHE_NAMESPACE = "xgate:cache";

/** LiteLLM's names for embedding calls in `supported_call_types`: the only calls xgate caches. */
export const EMBEDDING_CALL_TYPES: readonly string[] = ["embedding", "aembedding"];
