/**
 * Budgets every instance shares through Redis, with the in-process budgets as their fallback — the rate
 * limiter's sibling (limits/redis.ts), built the same way.
 *
 * Checking and reserving is one Lua script (redis-scripts.ts): one round trip, atomic across instances and
 * scopes, so a budget is reached once for all of them. A scope's count begins from what the instance that
 * begins it knows (its row's spend and what it settled since: memory.ts) and then takes every instance's
 * settled costs; it expires after `idleMs` unused, so an idle scope starts again from its row, which has
 * everything by then. At a count's beginning, what other instances settled that their rows do not have yet
 * (at most one journal batch interval of their spend) is not in it.
 *
 * It never waits long: the connection fails a command at once while disconnected and after a short
 * timeout while slow (see createBudgets), and this instance then counts on its own — logged once, shown by
 * `/health/readiness` — until a probe finds Redis answering again (kv/redis-fallback.ts). What it settled
 * meanwhile is added to the shared counts when Redis is back (when they survived), and scopes forgotten
 * meanwhile are deleted there.
 * A settle whose command failed is sent again, and a command that timed out may still have run: settles
 * carry this instance's sequence numbers, so that a count takes each once (redis-scripts.ts).
 *
 * Reservations are leases, renewed by this instance while their requests run: the estimates of an instance
 * that died are given back once their lease runs out, so no budget stays reserved for ever.
 */
import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import { execAll } from "../kv/redis.js";
import { RedisFallback } from "../kv/redis-fallback.js";
import { DEFAULT_LEASE_MS } from "../limits/redis.js";
import { type Clock, systemClock } from "../router/clock.js";
import { type RouterLogger, silentLogger } from "../router/logger.js";
import { amountOf, MemoryBudgets, softExceeded, withCost } from "./memory.js";
import { currentPeriod } from "./period.js";
import { RESERVE, SETTLE } from "./redis-scripts.js";
import {
  type BudgetAdmission,
  type BudgetHold,
  budgetKey,
  type Budgets,
  type BudgetScope,
  type BudgetScopeKind,
  type BudgetsState,
  type CommittedSpend,
  isBudgeted,
} from "./types.js";

export { DEFAULT_LEASE_MS };
/** How long a scope's count outlives its last use; well past a lease, so that counts outlive the requests they hold. */
export const DEFAULT_IDLE_MS = 10 * 60_000;

export interface RedisBudgetsOptions {
  /** Prefix of every key, e.g. `xgate:budgets:`. */
  namespace: string;
  /** Where Redis is (no password), for the log and readiness. */
  where: string;
  clock?: Clock;
  logger?: RouterLogger;
  leaseMs?: number;
  idleMs?: number;
  /** See MemoryBudgets. */
  commitMemoryMs?: number;
  /** Close the connection on `close()`: true when the budgets opened it. */
  ownsConnection?: boolean;
}

/** A settle the shared counts have not taken (yet): sent again, under the same sequence once it has one, until they have. */
interface Settle {
  keys: string[];
  /** '' for costs of requests admitted while Redis was away, which hold nothing there. */
  hold: string;
  /** Undefined: a release. */
  cost: number | undefined;
  /** Given when first sent: counts take none at or below the last they took from this instance. */
  sequence?: number;
}

function sendingOrder(settle: Settle): number {
  return settle.sequence ?? Number.MAX_SAFE_INTEGER;
}

export class RedisBudgets implements Budgets {
  readonly instanceId = randomUUID();
  private readonly local: MemoryBudgets;
  private readonly clock: Clock;
  private readonly leaseMs: number;
  private readonly idleMs: number;
  private holds = 0;
  /** The last settle sequence sent. */
  private sent = 0;
  /** Whether counting is in Redis now (else in `local`); renews the leases and runs the bookkeeping. */
  private readonly fallback: RedisFallback;
  /** The keys of the holds reserved in Redis and not yet over, by hold. */
  private readonly held = new Map<string, string[]>();
  /** Settles to send once Redis answers again, oldest first. */
  private readonly unsent = new Set<Settle>();
  /** By `budgetKey`: where the costs of requests admitted while Redis is away gather, until they are sent. */
  private readonly gathering = new Map<string, Settle>();
  /** By `budgetKey`: counts to delete once Redis answers again. */
  private readonly forgotten = new Map<string, [string, string]>();
  private closed = false;

  constructor(
    private readonly redis: Redis,
    private readonly options: RedisBudgetsOptions,
  ) {
    this.clock = options.clock ?? systemClock;
    this.leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
    this.idleMs = options.idleMs ?? DEFAULT_IDLE_MS;
    this.local = new MemoryBudgets({ clock: this.clock, ...(options.commitMemoryMs !== undefined && { commitMemoryMs: options.commitMemoryMs }) });
    if (typeof redis.xgateBudgetReserve !== "function") redis.defineCommand("xgateBudgetReserve", { lua: RESERVE });
    if (typeof redis.xgateBudgetSettle !== "function") redis.defineCommand("xgateBudgetSettle", { lua: SETTLE });
    this.fallback = new RedisFallback(redis, {
      where: options.where,
      clock: this.clock,
      logger: options.logger ?? silentLogger,
      wording: {
        away: "budgets: Redis is not answering; each instance counts spend against budgets on its own until it is back",
        back: "budgets: Redis answers again; budgets are shared by every instance again",
        sharedAs: "spend counted",
        aloneAs: "counts spend on its own",
        outageAs: "counts spend against budgets on its own",
      },
      catchUp: () => this.catchUp(),
      renew: () => this.renew(),
      renewEveryMs: this.leaseMs / 3,
    });
  }

  async reserve(scopes: readonly BudgetScope[], estimatedCost: number): Promise<BudgetAdmission> {
    const budgeted = scopes.filter(isBudgeted);
    if (!this.fallback.shared || budgeted.length === 0) return this.reserveLocally(scopes, budgeted, estimatedCost);
    const now = this.clock.now();
    const hold = `${this.instanceId}:${++this.holds}`;
    // What this instance knows: the spend of unbudgeted scopes, and where a shared count of the others begins.
    const spend = new Map(scopes.map((scope) => [budgetKey(scope), this.local.settledSpend(scope, now)]));
    const scopeArgs = budgeted.flatMap((scope) => [
      String(currentPeriod(scope, now).endsAt ?? ""),
      spend.get(budgetKey(scope)) ?? 0,
      scope.maxBudget,
    ]);
    let reply: (number | string)[];
    try {
      reply = await this.redis.xgateBudgetReserve(
        budgeted.length * 2,
        ...this.keysOf(budgeted),
        now,
        this.leaseMs,
        this.idleMs,
        hold,
        amountOf(estimatedCost),
        ...scopeArgs,
      );
    } catch (error) {
      this.fallback.fellBack(error);
      return this.reserveLocally(scopes, budgeted, estimatedCost);
    }
    budgeted.forEach((scope, i) => spend.set(budgetKey(scope), Number(reply[2 + i * 2])));
    const refused = Number(reply[1]);
    if (Number(reply[0]) !== 1) {
      const scope = budgeted[refused - 1] as (typeof budgeted)[number];
      return {
        admitted: false,
        refusal: {
          scope,
          spend: Number(reply[2 + (refused - 1) * 2]),
          reserved: Number(reply[3 + (refused - 1) * 2]),
          maxBudget: scope.maxBudget,
          resetsAt: currentPeriod(scope, now).endsAt,
        },
      };
    }
    this.held.set(hold, this.keysOf(budgeted));
    return { admitted: true, hold: this.sharedHold(hold, scopes, budgeted, spend) };
  }

  committed(rows: readonly CommittedSpend[]): void {
    // The shared counts took every cost when it was settled; only this instance's view of its rows changes.
    this.local.committed(rows);
  }

  forget(kind: BudgetScopeKind, id: string): void {
    this.local.forget(kind, id);
    const key = budgetKey({ kind, id });
    // Its count begins again from the row read after the change, with what this instance settled since.
    const gathered = this.gathering.get(key);
    if (gathered !== undefined) this.unsent.delete(gathered);
    this.gathering.delete(key);
    const keys = this.scopeKeys({ kind, id });
    if (!this.fallback.shared) {
      this.forgotten.set(key, keys);
      return;
    }
    this.fallback.background(
      this.redis.del(...keys).then(() => undefined),
      () => this.forgotten.set(key, keys),
    );
  }

  state(): BudgetsState {
    return this.fallback.state();
  }

  ready(): Promise<void> {
    return this.fallback.ready();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.fallback.close();
    // Requests cut off by the shutdown give their reservations back now rather than when their lease runs out.
    if (this.held.size > 0 && this.redis.status === "ready") {
      const pipeline = this.redis.pipeline();
      for (const [hold, keys] of this.held) pipeline.xgateBudgetSettle(keys.length, ...keys, this.idleMs, hold, "", this.instanceId, ++this.sent);
      await pipeline.exec().catch(() => undefined);
    }
    await this.local.close();
    if (this.options.ownsConnection) await this.redis.quit().catch(() => this.redis.disconnect());
  }

  private scopeKeys(scope: Pick<BudgetScope, "kind" | "id">): [string, string] {
    const key = budgetKey(scope);
    return [`${this.options.namespace}s:${key}`, `${this.options.namespace}l:${key}`];
  }

  private keysOf(scopes: readonly BudgetScope[]): string[] {
    return scopes.flatMap((scope) => this.scopeKeys(scope));
  }

  /** Admitted by this instance alone: what it settles is owed to the shared counts. */
  private reserveLocally(scopes: readonly BudgetScope[], budgeted: readonly BudgetScope[], estimatedCost: number): BudgetAdmission {
    const admission = this.local.reserveNow(scopes, estimatedCost);
    if (!admission.admitted) return admission;
    const { hold } = admission;
    let over = false;
    return {
      admitted: true,
      hold: {
        spend: hold.spend,
        softExceeded: hold.softExceeded,
        settle: (cost) => {
          if (!over) this.owe(budgeted, cost);
          over = true;
          return hold.settle(cost);
        },
        release: () => {
          over = true;
          hold.release();
        },
      },
    };
  }

  private sharedHold(id: string, scopes: readonly BudgetScope[], budgeted: readonly BudgetScope[], spend: ReadonlyMap<string, number>): BudgetHold {
    let answer: ReadonlyMap<string, number> | undefined;
    const end = (cost: number | undefined): ReadonlyMap<string, number> => {
      if (answer !== undefined) return answer;
      answer = cost === undefined ? spend : withCost(spend, cost);
      this.held.delete(id);
      if (cost !== undefined) this.local.recordSettled(scopes, cost);
      const settle: Settle = { keys: this.keysOf(budgeted), hold: id, cost: cost === undefined ? undefined : amountOf(cost) };
      // Away: the settle waits for Redis (the reservation there runs out with its lease if Redis stays away).
      if (this.fallback.shared) this.fallback.background(this.send(settle), () => this.unsent.add(settle));
      else this.unsent.add(settle);
      return answer;
    };
    return {
      spend,
      softExceeded: softExceeded(scopes, spend),
      settle: (cost) => end(cost),
      release: () => void end(undefined),
    };
  }

  /**
   * Charges the shared counts a cost of a request admitted while Redis was away: at once if it is back,
   * else gathered with the others, one settle per scope however many requests.
   */
  private owe(scopes: readonly BudgetScope[], cost: number): void {
    const amount = amountOf(cost);
    if (amount === 0 || scopes.length === 0) return;
    if (this.fallback.shared) {
      const settle: Settle = { keys: this.keysOf(scopes), hold: "", cost: amount };
      this.fallback.background(this.send(settle), () => this.unsent.add(settle));
      return;
    }
    for (const scope of scopes) {
      const key = budgetKey(scope);
      let gathered = this.gathering.get(key);
      if (gathered === undefined) {
        gathered = { keys: this.scopeKeys(scope), hold: "", cost: 0 };
        this.gathering.set(key, gathered);
        this.unsent.add(gathered);
      }
      gathered.cost = (gathered.cost ?? 0) + amount;
    }
  }

  private send(settle: Settle): Promise<void> {
    settle.sequence ??= ++this.sent;
    const { keys, hold, cost, sequence } = settle;
    return this.redis.xgateBudgetSettle(keys.length, ...keys, this.idleMs, hold, cost ?? "", this.instanceId, sequence).then(() => undefined);
  }

  /** Brings the shared counts up to date with what happened here while Redis was away. */
  private async catchUp(): Promise<void> {
    for (const [key, keys] of this.forgotten) {
      await this.redis.del(...keys);
      this.forgotten.delete(key);
    }
    // What is settled from now on gathers afresh: a settle once sent keeps its amount and its sequence.
    this.gathering.clear();
    // Sent before, in the order they were; then the others, which take the next sequences.
    const inOrder = [...this.unsent].sort((a, b) => sendingOrder(a) - sendingOrder(b));
    for (const settle of inOrder) {
      await this.send(settle);
      this.unsent.delete(settle);
    }
  }

  /** Extends the leases of this instance's holds, and keeps their counts alive (a lease Redis dropped stays dropped). */
  private renew(): void {
    if (this.held.size === 0 || this.redis.status !== "ready") return;
    const expiry = this.clock.now() + this.leaseMs;
    const pipeline = this.redis.pipeline();
    for (const [hold, keys] of this.held) {
      for (let i = 0; i < keys.length; i += 2) {
        const [hash, leases] = [keys[i] as string, keys[i + 1] as string];
        pipeline.zadd(leases, "XX", expiry, hold).pexpire(leases, this.idleMs).pexpire(hash, this.idleMs);
      }
    }
    this.fallback.background(execAll(pipeline));
  }
}
