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

/**
 * One limit's counts over the window: its one-second buckets and their running total. Buckets that left the
 * span are dropped the first time the window is looked at in a new second, so that a request reads the
 * total, not a sum over up to 61 buckets, and prunes nothing at all within a second.
 */
class Window {
  readonly buckets = new Map<number, number>();
  total = 0;
  /** The bucket of the last look: the window has nothing older than the span then began with. */
  private prunedIn = Number.NaN;

  /** Drops the buckets that have left the span at `now`. */
  prune(now: number): void {
    const current = bucketOf(now);
    if (current === this.prunedIn) return;
    this.prunedIn = current;
    const oldest = oldestBucket(now);
    for (const [bucket, value] of this.buckets) {
      if (bucket >= oldest) continue;
      this.buckets.delete(bucket);
      this.total -= value;
    }
  }

  /** Adds `delta` to a bucket, dropping it at 0; a bucket that has left the span takes only what is added (in the current one). */
  adjust(bucket: number, delta: number, now: number): void {
    if (delta === 0) return;
    if (bucket < oldestBucket(now)) {
      if (delta > 0) this.adjust(bucketOf(now), delta, now);
      return;
    }
    const before = this.buckets.get(bucket) ?? 0;
    const value = before + delta;
    if (value > 0) this.buckets.set(bucket, value);
    else this.buckets.delete(bucket);
    this.total += Math.max(0, value) - before;
  }
}

interface Counts {
  /** Requests, for scopes with an rpm limit. */
  requests: Window;
  /** Tokens, for scopes with a tpm limit. */
  tokens: Window;
  /** Requests in flight holding a slot, for scopes with a parallel limit. */
  slots: number;
  /** Requests in flight counted here, whatever their limits: while there are any, the counts are not swept. */
  held: number;
}

/** What one admitted request took from one scope, to give back or settle. */
interface Hold {
  scope: Scope;
  /** The scope's counts, kept (not swept) until the request is over. */
  counts: Counts;
  counted: boolean;
  reserved: number;
  slot: boolean;
}

/** A limit the request would break, before the quota and usage are added. */
export type Breach = Omit<Refusal, "quota" | "usage">;

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
          retryAfterMs: freesIn(counts.requests.buckets, used.requests + 1 - rpm, now),
        });
      }
      if (tpm !== undefined && used.tokens + reserved > tpm) {
        breach = worse(breach, {
          scope,
          limit: "tpm_limit",
          max: tpm,
          used: used.tokens,
          retryAfterMs: freesIn(counts.tokens.buckets, used.tokens + reserved - tpm, now),
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
      holds.push({ scope, counts, counted: rpm !== undefined, reserved, slot: maxParallel !== undefined });
    }
    if (breach !== undefined) return { admitted: false, refusal: { ...breach, quota: quotaOf(limited, before), usage: before } };

    const bucket = bucketOf(now);
    const after = new Map<string, Usage>();
    for (const hold of holds) {
      const { counts } = hold;
      counts.held++;
      if (hold.counted) counts.requests.adjust(bucket, 1, now);
      if (hold.reserved > 0) counts.tokens.adjust(bucket, hold.reserved, now);
      if (hold.slot) counts.slots++;
      after.set(scopeKey(hold.scope), usageOf(counts));
    }
    return { admitted: true, ticket: new MemoryTicket(this, holds, bucket, quotaOf(limited, after), after) };
  }

  /** `usage`, synchronously. */
  usageNow(scopes: readonly Scope[]): Map<string, Usage> {
    const now = this.clock.now();
    const usage = new Map<string, Usage>();
    for (const scope of scopes) {
      const counts = this.counts.get(scopeKey(scope));
      if (counts === undefined) continue;
      counts.requests.prune(now);
      counts.tokens.prune(now);
      usage.set(scopeKey(scope), usageOf(counts));
    }
    return usage;
  }

  /**
   * A ticket is over: its slots are given back, and its tokens settled (`tokens`: what the request used;
   * undefined, the estimate stands) or, for a `refund`, all it took given back.
   */
  endTicket(ticket: MemoryTicket, refund: boolean, tokens?: number): void {
    const now = this.clock.now();
    for (const hold of ticket.holds) {
      const { counts } = hold;
      counts.held--;
      if (refund) {
        if (hold.counted) counts.requests.adjust(ticket.bucket, -1, now);
        counts.tokens.adjust(ticket.bucket, -hold.reserved, now);
      } else if (tokens !== undefined && hold.scope.limits.tpm !== undefined) {
        counts.tokens.adjust(ticket.bucket, Math.round(tokens) - hold.reserved, now);
      }
      if (hold.slot) counts.slots = Math.max(0, counts.slots - 1);
    }
  }

  private countsOf(scope: Scope, now: number): Counts {
    const key = scopeKey(scope);
    let counts = this.counts.get(key);
    if (counts === undefined) {
      counts = { requests: new Window(), tokens: new Window(), slots: 0, held: 0 };
      this.counts.set(key, counts);
    }
    counts.requests.prune(now);
    counts.tokens.prune(now);
    return counts;
  }

  /** Forgets, once a minute, the scopes with nothing counted: keys come and go, their counts must not stay. */
  private sweep(): void {
    this.cancelSweep = this.clock.setTimer(
      WINDOW_MS,
      () => {
        const now = this.clock.now();
        for (const [key, counts] of this.counts) {
          counts.requests.prune(now);
          counts.tokens.prune(now);
          if (counts.held === 0 && counts.requests.buckets.size === 0 && counts.tokens.buckets.size === 0) this.counts.delete(key);
        }
        this.sweep();
      },
      { unref: true },
    );
  }
}

/** An admitted request's hold on its scopes in this process (a class, not closures: one is made per request). */
class MemoryTicket implements Ticket {
  private open = true;

  constructor(
    private readonly limiter: MemoryLimiter,
    readonly holds: readonly Hold[],
    /** The bucket the request was counted in. */
    readonly bucket: number,
    readonly quota: Ticket["quota"],
    readonly usage: Ticket["usage"],
  ) {}

  done(tokens?: number): void {
    this.end(false, tokens);
  }

  refund(): void {
    this.end(true);
  }

  /** Only the first of `done` and `refund` counts. */
  private end(refund: boolean, tokens?: number): void {
    if (!this.open) return;
    this.open = false;
    this.limiter.endTicket(this, refund, tokens);
  }
}

function usageOf(counts: Counts): Usage {
  return { requests: counts.requests.total, tokens: counts.tokens.total, parallel: counts.slots };
}
