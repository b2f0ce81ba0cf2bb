/**
 * Whether counts shared through Redis can be shared right now — one answer for the rate limiter and the
 * budgets, which both count in Redis and fall back to counting per instance while it is away.
 *
 * A user reports every failed command (`fellBack`); the first one of an outage turns sharing off, is logged
 * once, and starts a probe that PINGs every PROBE_MS until Redis answers. The user may then bring Redis up to
 * date (`catchUp`) before sharing is on again, which is logged once too; `state()` says which it is, for
 * `/health/readiness`.
 *
 * Both hold leases in Redis for the requests they admitted, renewed here on a timer (`renew`), and both do
 * bookkeeping no request waits for (`background`), which `close()` waits for.
 */
import type { Redis } from "ioredis";
import type { Clock } from "../router/clock.js";
import type { RouterLogger } from "../router/logger.js";
import { connectionOutcome } from "./redis.js";

/** While Redis is away, how often to ask whether it is back. */
const PROBE_MS = 1_000;

/** What the log and readiness say, in the words of what is counted. */
export interface FallbackWording {
  /** Logged once when Redis stops answering. */
  away: string;
  /** Logged once when it answers again. */
  back: string;
  /** Readiness while shared: "<sharedAs> in Redis (…), shared by every instance". */
  sharedAs: string;
  /** Readiness before the first connection: "… this instance <aloneAs> until it is". */
  aloneAs: string;
  /** Readiness during an outage: "… each instance <outageAs> until it is back". */
  outageAs: string;
}

export interface RedisFallbackOptions {
  /** Where Redis is (no password), for the log and readiness. */
  where: string;
  clock: Clock;
  logger: RouterLogger;
  wording: FallbackWording;
  /** Brings Redis up to date with what happened while it was away, before it is shared again; a failure means it is still away. */
  catchUp?: () => Promise<void>;
  /**
   * Renews the user's leases: every `renewEveryMs`, and at once each time sharing is on again, in case the
   * leases of requests that ran through the outage ran out meanwhile.
   */
  renew: () => void;
  renewEveryMs: number;
}

/** Where the counts are now; the limiter's and the budgets' states, when Redis is configured. */
export interface SharingState {
  mode: "shared" | "per-instance";
  detail: string;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export class RedisFallback {
  /** Counting in Redis now; else each instance on its own. */
  private sharing = false;
  private outage: { since: number; reason: string } | undefined;
  private cancelProbe: (() => void) | undefined;
  private cancelRenewal: (() => void) | undefined;
  private readonly pending = new Set<Promise<void>>();
  /** The probe under way, which a caller of `ready()` waits for too. */
  private probing: Promise<void> | undefined;
  private closed = false;

  constructor(
    private readonly redis: Redis,
    private readonly options: RedisFallbackOptions,
  ) {
    redis.on("ready", this.onReady);
    if (redis.status === "ready") this.onReady();
    this.renewLater();
  }

  get shared(): boolean {
    return this.sharing;
  }

  state(): SharingState {
    const { where: host, wording } = this.options;
    const where = `Redis (${host})`;
    if (this.sharing) return { mode: "shared", detail: `${wording.sharedAs} in ${where}, shared by every instance` };
    if (this.outage === undefined) return { mode: "per-instance", detail: `${where} not connected yet: this instance ${wording.aloneAs} until it is` };
    return {
      mode: "per-instance",
      detail: `${where} not answering since ${new Date(this.outage.since).toISOString()} (${this.outage.reason}): each instance ${wording.outageAs} until it is back`,
    };
  }

  /** Waits for the connection's first outcome: shared once Redis answers; otherwise said once in the log. */
  async ready(): Promise<void> {
    if (this.sharing || this.closed) return;
    if (this.redis.status !== "ready") {
      const failure = await connectionOutcome(this.redis);
      if (failure !== undefined) {
        this.fellBack(failure);
        return;
      }
    }
    await this.probe();
  }

  /** Redis failed a command: counted per instance until a probe finds it back. Said once, not per request. */
  fellBack(error: unknown): void {
    if (this.closed || (!this.sharing && this.outage !== undefined)) return;
    this.sharing = false;
    this.outage = { since: this.options.clock.now(), reason: messageOf(error) };
    this.options.logger.warn({ redis: this.options.where, err: { message: messageOf(error) } }, this.options.wording.away);
    this.probeLater();
  }

  /** Bookkeeping no request waits for; a failure means Redis is away, after `onFailure` has kept what it must. */
  background(operation: Promise<void>, onFailure?: () => void): void {
    const guarded = operation.catch((error: unknown) => {
      onFailure?.();
      this.fellBack(error);
    });
    this.pending.add(guarded);
    void guarded.finally(() => this.pending.delete(guarded));
  }

  /** Stops probing and renewing, and waits for the bookkeeping under way; failures from now on are not logged. */
  async close(): Promise<void> {
    this.closed = true;
    this.redis.off("ready", this.onReady);
    this.cancelRenewal?.();
    this.cancelProbe?.();
    await Promise.all(this.pending);
  }

  private readonly onReady = (): void => {
    void this.probe();
  };

  /** Shared again once Redis answers a PING within the connection's timeout, and has caught up. */
  private probe(): Promise<void> {
    if (this.closed || this.sharing) return Promise.resolve();
    if (this.redis.status !== "ready") {
      this.probeLater();
      return Promise.resolve();
    }
    this.probing ??= this.reconnect().finally(() => {
      this.probing = undefined;
    });
    return this.probing;
  }

  private async reconnect(): Promise<void> {
    try {
      await this.redis.ping();
      await this.options.catchUp?.();
    } catch (error) {
      this.fellBack(error);
      this.probeLater();
      return;
    }
    const outage = this.outage;
    this.sharing = true;
    this.outage = undefined;
    if (outage !== undefined) {
      this.options.logger.info({ redis: this.options.where, down_ms: this.options.clock.now() - outage.since }, this.options.wording.back);
    }
    this.options.renew();
  }

  private probeLater(): void {
    if (this.closed || this.cancelProbe !== undefined) return;
    this.cancelProbe = this.options.clock.setTimer(
      PROBE_MS,
      () => {
        this.cancelProbe = undefined;
        void this.probe();
      },
      { unref: true },
    );
  }

  private renewLater(): void {
    if (this.closed) return;
    this.cancelRenewal = this.options.clock.setTimer(
      this.options.renewEveryMs,
      () => {
        this.options.renew();
        this.renewLater();
      },
      { unref: true },
    );
  }
}
