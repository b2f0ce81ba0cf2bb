/**
 * The shared cache: entries in Redis, read in one pipeline of MGETs and written in one pipeline of SETs.
 *
 * Redis is never a point of failure. A read that has no answer within its bound (a short base, plus a little
 * per key for large batches) answers "nothing cached", and the request goes upstream; so does a read while
 * Redis is down (commands fail at once: the connection has no offline queue). After a failure the store
 * leaves Redis alone for RETRY_AFTER_MS, so that a Redis that hangs costs one bounded wait, not one per
 * request. Writes run in the background; those that would hold more than MAX_WRITING_BYTES in flight are
 * let go. Failures are counted, and logged at most once a minute with the count since the last line.
 */
import type { Redis } from "ioredis";
import { connectionOutcome } from "../kv/redis.js";
import { type Clock, within } from "../router/clock.js";
import type { CacheEntry, CacheStore } from "./store.js";

/** A read of one key waits at most this long… */
export const READ_BASE_MS = 50;
/** …plus this much per key: 2,048 entries of 1,024 floats as text are 43 MB to move. */
export const READ_PER_KEY_MS = 0.25;
/** After a failure, Redis is left alone this long: requests go upstream without waiting on it. */
export const RETRY_AFTER_MS = 2000;
/** Bytes of writes in flight beyond which new ones are let go, so that a slow Redis cannot fill memory. */
export const MAX_WRITING_BYTES = 64 * 1024 * 1024;
/** At most one failure line per this long. */
export const FAILURE_LOG_INTERVAL_MS = 60_000;
/** Keys per MGET: Redis answers other clients between two of them. */
const KEYS_PER_MGET = 256;

export interface CacheLogger {
  warn(fields: Record<string, unknown>, message: string): void;
  info(fields: Record<string, unknown>, message: string): void;
}

type PipelineResults = [error: Error | null, result: unknown][] | null;

/** The first command error of a pipeline's results, if any. */
function firstError(results: PipelineResults): Error | undefined {
  if (results === null) return new Error("the Redis pipeline was aborted");
  return results.find(([error]) => error !== null)?.[0] ?? undefined;
}

export class RedisCacheStore implements CacheStore {
  private failureCount = 0;
  /** Failures since the last line about them. */
  private unlogged = 0;
  private loggedAt = Number.NEGATIVE_INFINITY;
  private pausedUntil = Number.NEGATIVE_INFINITY;
  private writingBytes = 0;

  constructor(
    private readonly redis: Redis,
    private readonly clock: Clock,
    private readonly logger: CacheLogger,
  ) {}

  async getMany(keys: readonly string[]): Promise<(Buffer | undefined)[]> {
    const nothing = (): undefined[] => keys.map(() => undefined);
    if (this.clock.now() < this.pausedUntil) return nothing();
    const pipeline = this.redis.pipeline();
    for (let start = 0; start < keys.length; start += KEYS_PER_MGET) pipeline.mgetBuffer(keys.slice(start, start + KEYS_PER_MGET));
    let results: PipelineResults;
    try {
      const ms = READ_BASE_MS + READ_PER_KEY_MS * keys.length;
      results = await within(this.clock, pipeline.exec(), ms, () => new Error(`no answer within ${ms} ms`), { unref: true });
    } catch (error) {
      this.failed(error as Error);
      return nothing();
    }
    const error = firstError(results);
    if (error !== undefined) {
      this.failed(error);
      return nothing();
    }
    this.succeeded();
    return (results as [null, (Buffer | null)[]][]).flatMap(([, values]) => values.map((value) => value ?? undefined));
  }

  setMany(entries: readonly CacheEntry[], ttlMs: number | undefined): void {
    if (entries.length === 0 || this.clock.now() < this.pausedUntil) return;
    let bytes = 0;
    for (const entry of entries) bytes += entry.value.length;
    if (this.writingBytes + bytes > MAX_WRITING_BYTES) return;
    const pipeline = this.redis.pipeline();
    for (const { key, value } of entries) {
      if (ttlMs === undefined) pipeline.set(key, value);
      else pipeline.set(key, value, "PX", Math.max(1, Math.round(ttlMs)));
    }
    this.writingBytes += bytes;
    pipeline
      .exec()
      .then((results) => {
        const error = firstError(results);
        if (error === undefined) this.succeeded();
        else this.failed(error);
      })
      .catch((error: unknown) => this.failed(error as Error))
      .finally(() => (this.writingBytes -= bytes));
  }

  private failed(error: Error): void {
    const now = this.clock.now();
    this.failureCount++;
    this.unlogged++;
    this.pausedUntil = now + RETRY_AFTER_MS;
    if (now - this.loggedAt < FAILURE_LOG_INTERVAL_MS) return;
    this.logger.warn(
      { err: { message: error.message }, failures: this.unlogged, failures_total: this.failureCount },
      "embedding cache: Redis failed; requests go upstream as if nothing were cached until it answers again",
    );
    this.loggedAt = now;
    this.unlogged = 0;
  }

  /** Says once that Redis answers again, with the failures the last line did not count. */
  private succeeded(): void {
    if (this.pausedUntil === Number.NEGATIVE_INFINITY) return;
    this.pausedUntil = Number.NEGATIVE_INFINITY;
    this.logger.info({ failures: this.unlogged, failures_total: this.failureCount }, "embedding cache: Redis answers again");
    this.unlogged = 0;
  }

  async ready(): Promise<void> {
    if (this.redis.status === "ready") return;
    await connectionOutcome(this.redis);
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
