/**
 * The limiter every instance shares through Redis, with the in-process limiter as its fallback.
 *
 * Admission is one Lua script (redis-scripts.ts): one round trip, atomic across instances, so a limit holds
 * for all of them together within window.ts's bounds. It never waits long: the connection fails a command at
 * once while disconnected and after a short timeout while slow (see createLimiter), and this instance then
 * counts on its own — logged once, shown by `/health/readiness` — until a probe finds Redis answering again
 * (kv/redis-fallback.ts).
 * What was counted locally meanwhile is not carried over: for up to a minute after Redis returns, a limit
 * may admit what the instances admitted on their own on top of the shared count.
 *
 * Parallel slots are leases, renewed by this instance while their requests run: the slots of an instance
 * that died are free again once their lease runs out, so no key is left limited for ever.
 */
import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import { execAll } from "../kv/redis.js";
import { RedisFallback } from "../kv/redis-fallback.js";
import { type Clock, systemClock } from "../router/clock.js";
import { type RouterLogger, silentLogger } from "../router/logger.js";
import { MemoryLimiter } from "./memory.js";
import { quotaOf } from "./quota.js";
import { ADMIT, SETTLE, USAGE } from "./redis-scripts.js";
import {
  type Admission,
  isLimited,
  type LimitName,
  type Limiter,
  type LimiterState,
  type Scope,
  scopeKey,
  type Ticket,
  type Usage,
} from "./types.js";
import { BUCKET_MS, bucketOf, PARALLEL_RETRY_MS, reservation, SPAN_BUCKETS } from "./window.js";

/** How long a parallel slot stays taken without its instance renewing it. */
export const DEFAULT_LEASE_MS = 30_000;

const LIMIT_BY_CODE: Record<number, LimitName> = { 1: "rpm_limit", 2: "tpm_limit", 3: "max_parallel_requests" };

export interface RedisLimiterOptions {
  /** Prefix of every key, e.g. `xgate:limits:`. */
  namespace: string;
  /** Where Redis is (no password), for the log and readiness. */
  where: string;
  clock?: Clock;
  logger?: RouterLogger;
  leaseMs?: number;
  /** Close the connection on `close()`: true when the limiter opened it. */
  ownsConnection?: boolean;
}

/** What an admitted request took from one scope. */
interface Hold {
  scope: Scope;
  counted: boolean;
  reserved: number;
  slot: boolean;
}

export class RedisLimiter implements Limiter {
  readonly instanceId = randomUUID();
  private readonly local: MemoryLimiter;
  private readonly clock: Clock;
  private readonly leaseMs: number;
  /** Whether counting is in Redis now (else in `local`); renews the leases and runs the bookkeeping. */
  private readonly fallback: RedisFallback;
  private sequence = 0;
  /** Slot keys of the tickets admitted in Redis and not yet done, by ticket. */
  private readonly held = new Map<string, string[]>();
  private closed = false;

  constructor(
    private readonly redis: Redis,
    private readonly options: RedisLimiterOptions,
  ) {
    this.clock = options.clock ?? systemClock;
    this.leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
    this.local = new MemoryLimiter({ clock: this.clock });
    if (typeof redis.xgateLimitAdmit !== "function") redis.defineCommand("xgateLimitAdmit", { lua: ADMIT });
    if (typeof redis.xgateLimitSettle !== "function") redis.defineCommand("xgateLimitSettle", { lua: SETTLE });
    if (typeof redis.xgateLimitUsage !== "function") redis.defineCommand("xgateLimitUsage", { lua: USAGE });
    this.fallback = new RedisFallback(redis, {
      where: options.where,
      clock: this.clock,
      logger: options.logger ?? silentLogger,
      wording: {
        away: "rate limits: Redis is not answering; each instance counts its own limits until it is back",
        back: "rate limits: Redis answers again; limits are shared by every instance again",
        sharedAs: "counted",
        aloneAs: "counts on its own",
        outageAs: "counts on its own",
      },
      renew: () => this.renew(),
      renewEveryMs: this.leaseMs / 3,
    });
  }

  async admit(scopes: readonly Scope[], estimatedTokens: number): Promise<Admission> {
    const limited = scopes.filter(isLimited);
    if (!this.fallback.shared || limited.length === 0) return this.local.admitNow(limited, estimatedTokens);
    const now = this.clock.now();
    const ticket = `${this.instanceId}:${++this.sequence}`;
    const holds: Hold[] = limited.map((scope) => ({
      scope,
      counted: scope.limits.rpm !== undefined,
      reserved: scope.limits.tpm === undefined ? 0 : reservation(estimatedTokens, scope.limits.tpm),
      slot: scope.limits.maxParallel !== undefined,
    }));
    const limitsArgs = holds.flatMap(({ scope, reserved }) => [
      scope.limits.rpm ?? -1,
      scope.limits.tpm ?? -1,
      reserved,
      scope.limits.maxParallel ?? -1,
    ]);
    let reply: number[];
    try {
      reply = await this.redis.xgateLimitAdmit(
        limited.length * 2,
        ...this.keysOf(limited),
        now,
        BUCKET_MS,
        SPAN_BUCKETS,
        this.leaseMs,
        ticket,
        PARALLEL_RETRY_MS,
        ...limitsArgs,
      );
    } catch (error) {
      this.fallback.fellBack(error);
      return this.local.admitNow(limited, estimatedTokens);
    }
    const usage = new Map<string, Usage>();
    limited.forEach((scope, i) => usage.set(scopeKey(scope), usageAt(reply, 5 + i * 3)));
    const quota = quotaOf(limited, usage);
    if (reply[0] !== 1) {
      const scope = limited[(reply[1] ?? 1) - 1] as Scope;
      const limit = LIMIT_BY_CODE[reply[2] ?? 1] ?? "rpm_limit";
      const wait = reply[4] ?? -1;
      return {
        admitted: false,
        refusal: { scope, limit, max: maxOf(scope, limit), used: reply[3] ?? 0, retryAfterMs: wait < 0 ? undefined : wait, quota, usage },
      };
    }
    const slotKeys = holds.filter((hold) => hold.slot).map((hold) => this.slotsKey(hold.scope));
    if (slotKeys.length > 0) this.held.set(ticket, slotKeys);
    return { admitted: true, ticket: this.ticket(ticket, holds, bucketOf(now), quota, usage) };
  }

  async usage(scopes: readonly Scope[]): Promise<Map<string, Usage>> {
    const limited = scopes.filter(isLimited);
    if (!this.fallback.shared || limited.length === 0) return this.local.usageNow(limited);
    try {
      const reply = await this.redis.xgateLimitUsage(limited.length * 2, ...this.keysOf(limited), this.clock.now(), BUCKET_MS, SPAN_BUCKETS);
      return new Map(limited.map((scope, i) => [scopeKey(scope), usageAt(reply, i * 3)]));
    } catch (error) {
      this.fallback.fellBack(error);
      return this.local.usageNow(limited);
    }
  }

  state(): LimiterState {
    return this.fallback.state();
  }

  ready(): Promise<void> {
    return this.fallback.ready();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.fallback.close();
    // Requests cut off by the shutdown give their slots back now rather than when their lease runs out.
    if (this.held.size > 0 && this.redis.status === "ready") {
      const pipeline = this.redis.pipeline();
      for (const [ticket, keys] of this.held) for (const key of keys) pipeline.zrem(key, ticket);
      await pipeline.exec().catch(() => undefined);
    }
    await this.local.close();
    if (this.options.ownsConnection) await this.redis.quit().catch(() => this.redis.disconnect());
  }

  private windowKey(scope: Scope): string {
    return `${this.options.namespace}w:${scopeKey(scope)}`;
  }

  private slotsKey(scope: Scope): string {
    return `${this.options.namespace}p:${scopeKey(scope)}`;
  }

  private keysOf(scopes: readonly Scope[]): string[] {
    return scopes.flatMap((scope) => [this.windowKey(scope), this.slotsKey(scope)]);
  }

  private ticket(id: string, holds: readonly Hold[], bucket: number, quota: Ticket["quota"], usage: Ticket["usage"]): Ticket {
    let open = true;
    const settle = (requestsOf: (hold: Hold) => number, tokensOf: (hold: Hold) => number): void => {
      if (!open) return;
      open = false;
      this.held.delete(id);
      const args = holds.flatMap((hold) => [requestsOf(hold), tokensOf(hold), hold.slot ? 1 : 0]);
      const scopes = holds.map((hold) => hold.scope);
      this.fallback.background(
        this.redis
          .xgateLimitSettle(scopes.length * 2, ...this.keysOf(scopes), this.clock.now(), BUCKET_MS, SPAN_BUCKETS, id, bucket, ...args)
          .then(() => undefined),
      );
    };
    return {
      quota,
      usage,
      done: (tokens) =>
        settle(
          () => 0,
          (hold) => (tokens === undefined || hold.scope.limits.tpm === undefined ? 0 : Math.round(tokens) - hold.reserved),
        ),
      refund: () =>
        settle(
          (hold) => (hold.counted ? -1 : 0),
          (hold) => -hold.reserved,
        ),
    };
  }

  /** Extends the leases of this instance's slots (re-adding any that Redis lost). */
  private renew(): void {
    if (this.held.size === 0 || this.redis.status !== "ready") return;
    const expiry = this.clock.now() + this.leaseMs;
    const pipeline = this.redis.pipeline();
    for (const [ticket, keys] of this.held) for (const key of keys) pipeline.zadd(key, expiry, ticket).pexpire(key, this.leaseMs);
    this.fallback.background(execAll(pipeline));
  }
}

function usageAt(reply: readonly number[], at: number): Usage {
  return { requests: Number(reply[at] ?? 0), tokens: Number(reply[at + 1] ?? 0), parallel: Number(reply[at + 2] ?? 0) };
}

function maxOf(scope: Scope, limit: LimitName): number {
  const { rpm, tpm, maxParallel } = scope.limits;
  return (limit === "rpm_limit" ? rpm : limit === "tpm_limit" ? tpm : maxParallel) ?? 0;
}
