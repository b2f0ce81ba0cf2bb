/** The embedding cache as the settings resolve it from `litellm_settings.cache` and `cache_params`. */
import { type RedisConnection, redisAddress } from "../kv/redis.js";

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

/** What the banner says of the cache: never a password. */
export function describeCache(cache: CacheSettings | undefined, workers: number): string {
  if (cache === undefined) return "off (set litellm_settings.cache: true to cache embeddings)";
  const { store } = cache;
  if (store.type === "redis") {
    return `embeddings, in redis (${redisAddress(store.connection)}), shared by all instances`;
  }
  const mb = Math.round((store.maxBytes / (1024 * 1024)) * 10) / 10;
  return `embeddings, in memory (${mb} MB${workers > 1 ? " per worker" : ""}; set cache_params.type: redis to share)`;
}

/** LiteLLM's names for embedding calls in `supported_call_types`: the only calls xgate caches. */
export const EMBEDDING_CALL_TYPES: readonly string[] = ["embedding", "aembedding"];
