/**
 * The limiter in this process: the limits of one instance, and what a shared limiter falls back to while
 * Redis is away. The window is window.ts's; a parallel slot is a count, given back by the ticket (a process
 * that dies takes its counts with it, so nothing here needs a lease).
 */
import { type Clock, systemClock } from "../router/clock.js";
import { quotaOf } from "./quota.js";
import {
  type Admission,
  isLimited,
  type Limiter,
  type LimiterState,
  type Refusal,
  type Scope,
  scopeKey,
  type Ticket,
  type Usage,
} from "./types.js";
import { bucketOf, freesIn, oldestBucket, PARALLEL_RETRY_MS, reservation, WINDOW_MS } from "./window.js";

interface Counts {
  /** Requests per bucket, for scopes with an rpm limit. */
  requests: Map<number, number>;
  /** Tokens per bucket, for scopes with a tpm limit. */
  tokens: Map<number, number>;
  /** Requests in flight holding a slot, for scopes with a parallel limit. */
  slots: number;
}

/** What one admitted request took from one scope, to give back or settle. */
interface Hold {
  scope: Scope;
  counted: boolean;
  reserved: number;
  slot: boolean;
}

/** A limit the request would break, before the quota and usage are added. */
export type Breach = Omit<Refusal, "quota" | "usage">;

function sum(buckets: ReadonlyMap<number, number>): number {
  let total = 0;
  for (const value of buckets.values()) total += value;
  return total;
}

function prune(buckets: Map<number, number>, oldest: number): void {
  for (const bucket of buckets.keys()) if (bucket < oldest) buckets.delete(bucket);
}

/** Adds `delta` to a bucket, dropping it at 0; a bucket that has left the span takes only what is added (in the current one). */
function adjust(buckets: Map<number, number>, bucket: number, delta: number, now: number): void {
  if (delta === 0) return;
  if (bucket < oldestBucket(now)) {
    if (delta > 0) buckets.set(bucketOf(now), (buckets.get(bucketOf(now)) ?? 0) + delta);
    return;
  }
  const value = (buckets.get(bucket) ?? 0) + delta;
  if (value > 0) buckets.set(bucket, value);
  else buckets.delete(bucket);
}

/** The wait a breach asks for; a limit waiting cannot satisfy weighs most. */
function waitOf(breach: Breach): number {
  return breach.retryAfterMs ?? Number.POSITIVE_INFINITY;
}

/** The breach that is cured last, of two: its wait is the request's. */
export function worse(a: Breach | undefined, b: Breach | undefined): Breach | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return waitOf(b) > waitOf(a) ? b : a;
}

export interface MemoryLimiterOptions {
  clock?: Clock;
}

export class MemoryLimiter implements Limiter {
  private readonly counts = new Map<string, Counts>();
  private readonly clock: Clock;
  private cancelSweep: (() => void) | undefined;

  constructor(options: MemoryLimiterOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.sweep();
  }

  async admit(scopes: readonly Scope[], estimatedTokens: number): Promise<Admission> {
    return this.admitNow(scopes, estimatedTokens);
  }

  async usage(scopes: readonly Scope[]): Promise<Map<string, Usage>> {
    return this.usageNow(scopes);
  }

  state(): LimiterState {
    return { mode: "in-process", detail: "counted by this process alone (no Redis configured)" };
  }

  async ready(): Promise<void> {}

  async close(): Promise<void> {
    this.cancelSweep?.();
    this.cancelSweep = undefined;
  }

  /** `admit`, synchronously: a shared limiter falling back calls it without a turn of the event loop. */
  admitNow(scopes: readonly Scope[], estimatedTokens: number): Admission {
    const now = this.clock.now();
    const limited = scopes.filter(isLimited);
    const before = new Map<string, Usage>();
    let breach: Breach | undefined;
    const holds: Hold[] = [];
    for (const scope of limited) {
      const counts = this.countsOf(scope, now);
      const used = usageOf(counts);
      before.set(scopeKey(scope), used);
      const { rpm, tpm, maxParallel } = scope.limits;
      const reserved = tpm === undefined ? 0 : reservation(estimatedTokens, tpm);
      if (rpm !== undefined && used.requests + 1 > rpm) {
        breach = worse(breach, {
          scope,
          limit: "rpm_limit",
          max: rpm,
          used: used.requests,
          retryAfterMs: freesIn(counts.requests, used.requests + 1 - rpm, now),
        });
      }
      if (tpm !== undefined && used.tokens + reserved > tpm) {
        breach = worse(breach, {
          scope,
          limit: "tpm_limit",
          max: tpm,
          used: used.tokens,
          retryAfterMs: freesIn(counts.tokens, used.tokens + reserved - tpm, now),
        });
      }
      if (maxParallel !== undefined && used.parallel + 1 > maxParallel) {
        breach = worse(breach, {
          scope,
          limit: "max_parallel_requests",
          max: maxParallel,
          used: used.parallel,
          retryAfterMs: maxParallel >= 1 ? PARALLEL_RETRY_MS : undefined,
        });
      }
      holds.push({ scope, counted: rpm !== undefined, reserved, slot: maxParallel !== undefined });
    }
    if (breach !== undefined) return { admitted: false, refusal: { ...breach, quota: quotaOf(limited, before), usage: before } };

    const bucket = bucketOf(now);
    const after = new Map<string, Usage>();
    for (const hold of holds) {
      const counts = this.countsOf(hold.scope, now);
      if (hold.counted) adjust(counts.requests, bucket, 1, now);
      if (hold.reserved > 0) adjust(counts.tokens, bucket, hold.reserved, now);
      if (hold.slot) counts.slots++;
      after.set(scopeKey(hold.scope), usageOf(counts));
    }
    return { admitted: true, ticket: this.ticket(holds, bucket, quotaOf(limited, after), after) };
  }

  /** `usage`, synchronously. */
  usageNow(scopes: readonly Scope[]): Map<string, Usage> {
    const now = this.clock.now();
    const usage = new Map<string, Usage>();
    for (const scope of scopes) {
      const counts = this.counts.get(scopeKey(scope));
      if (counts === undefined) continue;
      prune(counts.requests, oldestBucket(now));
      prune(counts.tokens, oldestBucket(now));
      usage.set(scopeKey(scope), usageOf(counts));
    }
    return usage;
  }

  private ticket(holds: readonly Hold[], bucket: number, quota: Ticket["quota"], usage: Ticket["usage"]): Ticket {
    let open = true;
    const end = (settle: (hold: Hold, counts: Counts, now: number) => void): void => {
      if (!open) return;
      open = false;
      const now = this.clock.now();
      for (const hold of holds) {
        // Looked up again: the scope's counts may have been swept and made anew since the request came.
        const counts = this.countsOf(hold.scope, now);
        settle(hold, counts, now);
        if (hold.slot) counts.slots = Math.max(0, counts.slots - 1);
      }
    };
    return {
      quota,
      usage,
      done: (tokens) =>
        end((hold, counts, now) => {
          if (tokens !== undefined && hold.scope.limits.tpm !== undefined) adjust(counts.tokens, bucket, Math.round(tokens) - hold.reserved, now);
        }),
      refund: () =>
        end((hold, counts, now) => {
          if (hold.counted) adjust(counts.requests, bucket, -1, now);
          adjust(counts.tokens, bucket, -hold.reserved, now);
        }),
    };
  }

  private countsOf(scope: Scope, now: number): Counts {
    const key = scopeKey(scope);
    let counts = this.counts.get(key);
    if (counts === undefined) {
      counts = { requests: new Map(), tokens: new Map(), slots: 0 };
      this.counts.set(key, counts);
    }
    prune(counts.requests, oldestBucket(now));
    prune(counts.tokens, oldestBucket(now));
    return counts;
  }

  /** Forgets, once a minute, the scopes with nothing counted: keys come and go, their counts must not stay. */
  private sweep(): void {
    this.cancelSweep = this.clock.setTimer(
      WINDOW_MS,
      () => {
        const now = this.clock.now();
        for (const [key, counts] of this.counts) {
          prune(counts.requests, oldestBucket(now));
          prune(counts.tokens, oldestBucket(now));
          if (counts.slots === 0 && counts.requests.size === 0 && counts.tokens.size === 0) this.counts.delete(key);
        }
        this.sweep();
      },
      { unref: true },
    );
  }
}

function usageOf(counts: Counts): Usage {
  return { requests: sum(counts.requests), tokens: sum(counts.tokens), parallel: counts.slots };
}
