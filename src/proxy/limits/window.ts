/**
 * The window rpm and tpm are counted in: a sliding minute of one-second buckets, counted conservatively.
 *
 * Why this one. A limit must hold over any minute, across instances, within ±5%:
 * - a fixed window (a counter per calendar minute, what LiteLLM keeps per pod) lets twice the limit through
 *   across a minute boundary;
 * - GCRA and token buckets hold a rate with a burst allowance: a bucket as deep as the limit also lets up to
 *   twice the limit through in a minute (a full burst, then the refill), and a shallow one refuses the burst
 *   of five requests a user with `rpm_limit: 5` expects to pass;
 * - a log of every request is exact but costs memory and work per request in the window, and a hot key has
 *   thousands.
 * One-second buckets keep the exactness at a fixed cost (at most 61 counters per scope and limit). A request
 * is admitted only if the current bucket and the 60 before it — a span of 60 to 61 seconds, always covering
 * the last whole minute — leave room for it; so no minute ever admits more than the limit, and a client that
 * keeps asking gets at least 60/61 of it over time (−1.6%; a minute cut just after a burst can miss up to
 * one second of the client's demand). Retry-After is the moment the oldest buckets holding the excess leave
 * the span: at most a second later than an exact log would say, never earlier.
 *
 * The same rules run in process (memory.ts) and in Redis (redis-scripts.ts, in Lua, one script per call so
 * that every instance sees one count); times come from the callers' clocks, as the router's do.
 */

export const WINDOW_MS = 60_000;
export const BUCKET_MS = 1_000;
/** The buckets counted: the current one and the 60 before it. */
export const SPAN_BUCKETS = WINDOW_MS / BUCKET_MS + 1;
/**
 * What a client refused for `max_parallel_requests` is told to wait: a slot frees when one of the requests
 * in flight ends, which nothing can foresee; a second is soon without being a busy loop.
 */
export const PARALLEL_RETRY_MS = 1_000;

export function bucketOf(now: number): number {
  return Math.floor(now / BUCKET_MS);
}

/** The oldest bucket still counted at `now`. */
export function oldestBucket(now: number): number {
  return bucketOf(now) - SPAN_BUCKETS + 1;
}

/** The bucket `bucket` stops being counted at this time. */
export function leavesAt(bucket: number): number {
  return (bucket + SPAN_BUCKETS) * BUCKET_MS;
}

/**
 * How long until the oldest buckets holding at least `excess` have left the span; undefined when even the
 * whole window leaving would not free that much (a limit below one request).
 */
export function freesIn(buckets: ReadonlyMap<number, number>, excess: number, now: number): number | undefined {
  let freed = 0;
  for (let bucket = oldestBucket(now); bucket <= bucketOf(now); bucket++) {
    freed += buckets.get(bucket) ?? 0;
    if (freed >= excess) return leavesAt(bucket) - now;
  }
  return undefined;
}

/**
 * The tokens a request reserves against a `tpm` limit: its estimate, but never more than the limit itself,
 * so that a request larger than a minute's allowance can still pass once the window is empty (its real
 * count then keeps the scope refused until it has aged out) instead of being refused for ever on a guess.
 */
export function reservation(estimatedTokens: number, tpm: number): number {
  return Math.min(Math.max(0, Math.ceil(estimatedTokens)), Math.floor(tpm));
}
