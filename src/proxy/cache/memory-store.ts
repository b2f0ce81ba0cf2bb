/**
 * The local cache: entries in this process's memory, least recently used evicted first once their bytes pass
 * the bound (`max_size_mb`), each expiring at its TTL on the injected clock. A Map keeps insertion order, so
 * re-inserting an entry on every read makes its first key the least recently used.
 */
import type { Clock } from "../router/clock.js";
import type { CacheEntry, CacheStore } from "./store.js";

/** What an entry costs beyond its value: its key (two bytes a character) and the Map's and record's overhead. */
const ENTRY_OVERHEAD_BYTES = 96;

interface Kept {
  value: Buffer;
  /** Clock time it expires at; Infinity without a TTL. */
  expiresAt: number;
  bytes: number;
}

export class MemoryCacheStore implements CacheStore {
  private readonly entries = new Map<string, Kept>();
  private bytes = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly clock: Clock,
  ) {}

  async getMany(keys: readonly string[]): Promise<(Buffer | undefined)[]> {
    const now = this.clock.now();
    return keys.map((key) => {
      const kept = this.entries.get(key);
      if (kept === undefined) return undefined;
      this.entries.delete(key);
      if (kept.expiresAt <= now) {
        this.bytes -= kept.bytes;
        return undefined;
      }
      this.entries.set(key, kept);
      return kept.value;
    });
  }

  setMany(entries: readonly CacheEntry[], ttlMs: number | undefined): void {
    const expiresAt = ttlMs === undefined ? Number.POSITIVE_INFINITY : this.clock.now() + ttlMs;
    for (const { key, value } of entries) {
      const bytes = value.length + 2 * key.length + ENTRY_OVERHEAD_BYTES;
      // An entry larger than the whole cache would only evict everything and then itself.
      if (bytes > this.maxBytes) continue;
      this.remove(key);
      this.entries.set(key, { value, expiresAt, bytes });
      this.bytes += bytes;
    }
    for (const key of this.entries.keys()) {
      if (this.bytes <= this.maxBytes) break;
      this.remove(key);
    }
  }

  private remove(key: string): void {
    const kept = this.entries.get(key);
    if (kept === undefined) return;
    this.entries.delete(key);
    this.bytes -= kept.bytes;
  }

  async ready(): Promise<void> {}

  async close(): Promise<void> {
    this.entries.clear();
    this.bytes = 0;
  }
}
