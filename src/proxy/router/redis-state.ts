/**
 * The router's state in Redis, shared by every instance of the proxy that names the same Redis.
 *
 * Keys live under one namespace and every key has a TTL, so nothing outlives its use. In-flight counts are
 * kept per instance, in a hash that only that instance writes and that expires unless its heartbeat refreshes
 * it; readers sum the hashes of instances whose heartbeat is recent. A process that dies mid-request thus
 * stops counting within INSTANCE_TTL_MS, instead of leaving a deployment looking busy forever.
 */
import { randomUUID } from "node:crypto";
import type { Redis, Result } from "ioredis";
import { connectionOutcome } from "../kv/redis.js";
import { type Clock, systemClock } from "./clock.js";
import {
  type CallOutcome,
  type Cooldown,
  type DeploymentStats,
  FAILURE_WINDOW_MS,
  LASTING_CAUSES,
  type LastingCause,
  LATENCY_SAMPLES,
  LATENCY_WINDOW_MS,
  meanLatency,
  type RouterState,
} from "./state.js";

/** An instance whose heartbeat is older than this is presumed dead and its in-flight counts ignored. */
export const INSTANCE_TTL_MS = 15_000;
const HEARTBEAT_MS = INSTANCE_TTL_MS / 3;

/**
 * Sums the in-flight counts of live instances for each deployment, pruning dead instances first.
 * KEYS[1]: the instances sorted set (score = last heartbeat). ARGV[1]: oldest live heartbeat;
 * ARGV[2]: prefix of the per-instance hashes; ARGV[3..]: deployment ids.
 */
const IN_FLIGHT_TOTALS = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[1])
local instances = redis.call('ZRANGE', KEYS[1], 0, -1)
local totals = {}
for i = 3, #ARGV do totals[i - 2] = 0 end
for _, instance in ipairs(instances) do
  local counts = redis.call('HMGET', ARGV[2] .. instance, unpack(ARGV, 3))
  for i, c in ipairs(counts) do
    if c then totals[i] = totals[i] + tonumber(c) end
  end
end
return totals
`;

/**
 * One call to a deployment ended: decrements its count in this instance's hash, and drops the field at 0, so
 * that the hash holds only deployments with calls running (wildcard variants come and go).
 * KEYS[1]: this instance's in-flight hash. ARGV[1]: the deployment id.
 */
const END_IN_FLIGHT = `
local left = redis.call('HINCRBY', KEYS[1], ARGV[1], -1)
if left <= 0 then redis.call('HDEL', KEYS[1], ARGV[1]) end
return left
`;

declare module "ioredis" {
  interface RedisCommander<Context> {
    xgateInFlightTotals(key: string, ...args: (string | number)[]): Result<number[], Context>;
    xgateEndInFlight(key: string, id: string): Result<number, Context>;
  }
}

export interface RedisRouterStateOptions {
  /** Prefix of every key, e.g. `xgate:router:`. */
  namespace: string;
  clock?: Clock;
  /** Close the connection on `close()`: true when the state created it. */
  ownsConnection?: boolean;
}

type PipelineResults = [error: Error | null, result: unknown][] | null;

function resultsOf(results: PipelineResults): unknown[] {
  if (results === null) throw new Error("Redis transaction was aborted");
  return results.map(([error, result]) => {
    if (error) throw error;
    return result;
  });
}

function isLastingCause(value: unknown): value is LastingCause {
  return (LASTING_CAUSES as readonly unknown[]).includes(value);
}

function parseCooldown(raw: unknown, now: number): Cooldown | undefined {
  if (typeof raw !== "string") return undefined;
  try {
    const parsed = JSON.parse(raw) as Partial<Record<keyof Cooldown, unknown>>;
    if (typeof parsed.until === "number" && parsed.until > now) {
      const reason = typeof parsed.reason === "string" ? parsed.reason : "cooling down";
      return isLastingCause(parsed.cause) ? { until: parsed.until, reason, cause: parsed.cause } : { until: parsed.until, reason };
    }
  } catch {
    // A value this code did not write: treat the deployment as not cooling.
  }
  return undefined;
}

function parseSamples(raw: unknown): { at: number; ms: number }[] {
  if (!Array.isArray(raw)) return [];
  return raw.flatMap((item: unknown) => {
    const [at, ms] = String(item).split(":").map(Number);
    return at !== undefined && ms !== undefined && Number.isFinite(at) && Number.isFinite(ms) ? [{ at, ms }] : [];
  });
}

export class RedisRouterState implements RouterState {
  readonly instanceId = randomUUID();
  private readonly clock: Clock;
  private readonly ns: string;
  private cancelHeartbeat: (() => void) | undefined;
  private closed = false;

  constructor(
    private readonly redis: Redis,
    private readonly options: RedisRouterStateOptions,
  ) {
    this.clock = options.clock ?? systemClock;
    this.ns = options.namespace;
    if (typeof this.redis.xgateInFlightTotals !== "function") {
      this.redis.defineCommand("xgateInFlightTotals", { numberOfKeys: 1, lua: IN_FLIGHT_TOTALS });
    }
    if (typeof this.redis.xgateEndInFlight !== "function") {
      this.redis.defineCommand("xgateEndInFlight", { numberOfKeys: 1, lua: END_IN_FLIGHT });
    }
    // Beat at once on every (re)connection, so that a late connection does not hide this instance's load.
    this.redis.on("ready", this.beat);
    this.heartbeat();
  }

  private key(...parts: (string | number)[]): string {
    return this.ns + parts.join(":");
  }

  private get inFlightKey(): string {
    return this.key("inflight", this.instanceId);
  }

  /** Announces this instance as alive and keeps its in-flight hash from expiring. */
  private readonly beat = (): void => {
    if (this.closed) return;
    this.redis
      .multi()
      .zadd(this.key("instances"), this.clock.now(), this.instanceId)
      .pexpire(this.key("instances"), INSTANCE_TTL_MS * 4)
      .pexpire(this.inFlightKey, INSTANCE_TTL_MS)
      .exec()
      // A failed beat is retried by the next one; the router works on without shared counts meanwhile.
      .catch(() => undefined);
  };

  private heartbeat(): void {
    if (this.closed) return;
    this.beat();
    this.cancelHeartbeat = this.clock.setTimer(HEARTBEAT_MS, () => this.heartbeat(), { unref: true });
  }

  async ready(): Promise<void> {
    if (this.redis.status === "ready") return;
    const failure = await connectionOutcome(this.redis);
    if (failure !== undefined) throw failure;
  }

  async stats(ids: readonly string[], now: number): Promise<Map<string, DeploymentStats>> {
    const stats = new Map<string, DeploymentStats>();
    if (ids.length === 0) return stats;
    const pipeline = this.redis.pipeline();
    pipeline.xgateInFlightTotals(this.key("instances"), now - INSTANCE_TTL_MS, this.key("inflight", ""), ...ids);
    pipeline.mget(ids.map((id) => this.key("cooldown", id)));
    for (const id of ids) pipeline.lrange(this.key("latency", id), 0, -1);
    const [inFlight, cooldowns, ...rest] = resultsOf(await pipeline.exec());
    ids.forEach((id, i) => {
      stats.set(id, {
        cooldown: parseCooldown((cooldowns as unknown[] | undefined)?.[i], now),
        inFlight: Math.max(0, Number((inFlight as unknown[] | undefined)?.[i] ?? 0)),
        latencyMs: meanLatency(parseSamples(rest[i]), now),
      });
    });
    return stats;
  }

  async begin(id: string): Promise<void> {
    resultsOf(await this.redis.pipeline().hincrby(this.inFlightKey, id, 1).pexpire(this.inFlightKey, INSTANCE_TTL_MS).exec());
  }

  async end(id: string, outcome: CallOutcome, now: number): Promise<void> {
    const pipeline = this.redis.pipeline().xgateEndInFlight(this.inFlightKey, id);
    if (outcome.latencyMs !== undefined) {
      const latencyKey = this.key("latency", id);
      pipeline
        .lpush(latencyKey, `${now}:${outcome.latencyMs}`)
        .ltrim(latencyKey, 0, LATENCY_SAMPLES - 1)
        .pexpire(latencyKey, LATENCY_WINDOW_MS);
    }
    resultsOf(await pipeline.exec());
  }

  async recordFailure(id: string, now: number): Promise<number> {
    const failuresKey = this.key("fails", id);
    const results = resultsOf(
      await this.redis
        .multi()
        .zadd(failuresKey, now, `${now}:${randomUUID()}`)
        .zremrangebyscore(failuresKey, "-inf", `(${now - FAILURE_WINDOW_MS + 1}`)
        .zcard(failuresKey)
        .pexpire(failuresKey, FAILURE_WINDOW_MS)
        .exec(),
    );
    return Number(results[2]);
  }

  async cool(id: string, cooldown: Cooldown, now: number): Promise<void> {
    resultsOf(
      await this.redis
        .multi()
        .set(this.key("cooldown", id), JSON.stringify(cooldown), "PX", Math.max(1, Math.ceil(cooldown.until - now)))
        .del(this.key("fails", id))
        .exec(),
    );
  }

  /** Nothing to do: every key expires on its own, and in-flight fields go when they reach 0. */
  async forget(): Promise<void> {}

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.cancelHeartbeat?.();
    this.redis.off("ready", this.beat);
    try {
      await this.redis.multi().del(this.inFlightKey).zrem(this.key("instances"), this.instanceId).exec();
    } catch {
      // Redis is unreachable: the instance's keys expire on their own within INSTANCE_TTL_MS.
    } finally {
      if (this.options.ownsConnection) await this.redis.quit().catch(() => this.redis.disconnect());
    }
  }
}
