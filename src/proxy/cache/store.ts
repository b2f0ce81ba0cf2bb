/**
 * Where cache entries are kept: this process's memory (memory-store.ts) or a Redis that every instance
 * shares (redis-store.ts). A store never fails a request: one that cannot answer answers "nothing cached",
 * and one that cannot keep an entry lets it go.
 */

export interface CacheEntry {
  key: string;
  value: Buffer;
}

export interface CacheStore {
  /** The values under these keys, in their order; undefined where none is kept (or the store cannot say). */
  getMany(keys: readonly string[]): Promise<(Buffer | undefined)[]>;
  /** Keeps the entries for `ttlMs` (undefined: until evicted), in the background. */
  setMany(entries: readonly CacheEntry[], ttlMs: number | undefined): void;
  /** Resolves once the store can answer, or has failed to connect (its reads then answer nothing); never rejects. */
  ready(): Promise<void>;
  close(): Promise<void>;
}
