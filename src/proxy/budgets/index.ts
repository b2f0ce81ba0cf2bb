/**
 * Budgets — `max_budget` and `soft_budget` of keys and teams, over their `budget_duration` — checked against
 * live spend before a request and charged after it, in this process or shared by every instance through
 * Redis (redis.ts), behind one contract (types.ts).
 *
 * @example
 * const hold = await admitBudgets(budgets, budgetScopes(key.record, key.team, key.readAt), estimatedCost(pricing, request));
 * // …serve the request; when it is over:
 * const spend = hold.settle(costOf(pricing, usage)); // or hold.release() if it was never served
 */
import { connectRedis, type RedisConnection, redisAddress } from "../kv/redis.js";
import type { Clock } from "../router/clock.js";
import type { RouterLogger } from "../router/logger.js";
import { budgetExceeded } from "./errors.js";
import { MemoryBudgets } from "./memory.js";
import { RedisBudgets } from "./redis.js";
import type { BudgetHold, Budgets, BudgetScope } from "./types.js";

export { BUDGET_EXCEEDED, BudgetExceededError, budgetExceeded, describeBudgetRefusal, formatSpend } from "./errors.js";
export { DEFAULT_COMMIT_MEMORY_MS, MemoryBudgets } from "./memory.js";
export { currentPeriod, type CurrentPeriod } from "./period.js";
export { DEFAULT_IDLE_MS, RedisBudgets } from "./redis.js";
export { budgetScopes } from "./scopes.js";
export type {
  BudgetAdmission,
  BudgetHold,
  BudgetRefusal,
  Budgets,
  BudgetScope,
  BudgetScopeKind,
  BudgetsState,
  CommittedSpend,
} from "./types.js";
export { budgetKey, isBudgeted } from "./types.js";

const DEFAULT_NAMESPACE = "xgate:budgets:";

/**
 * A command slower than this fails, and the request is checked by this instance's own counts: admission
 * must never hold a request up for long, and a Redis nearby answers in well under a millisecond.
 */
export const BUDGET_COMMAND_TIMEOUT_MS = 250;

export interface CreateBudgetsOptions {
  logger?: RouterLogger;
  clock?: Clock;
  namespace?: string;
  commandTimeoutMs?: number;
  /** See MemoryBudgets: longer than the key cache keeps a row. */
  commitMemoryMs?: number;
}

/** The budgets the settings call for: shared through Redis when they name one, else this process's own. */
export function createBudgets(connection: RedisConnection | undefined, options: CreateBudgetsOptions = {}): Budgets {
  const common = {
    ...(options.clock && { clock: options.clock }),
    ...(options.commitMemoryMs !== undefined && { commitMemoryMs: options.commitMemoryMs }),
  };
  if (connection === undefined) return new MemoryBudgets(common);
  const redis = connectRedis(connection, { commandTimeoutMs: options.commandTimeoutMs ?? BUDGET_COMMAND_TIMEOUT_MS });
  return new RedisBudgets(redis, {
    ...common,
    namespace: options.namespace ?? DEFAULT_NAMESPACE,
    where: redisAddress(connection),
    ownsConnection: true,
    ...(options.logger && { logger: options.logger }),
  });
}

/** The hold the request keeps until it is over; throws the 429 naming the budget when a scope's is spent. */
export async function admitBudgets(budgets: Budgets, scopes: readonly BudgetScope[], estimatedCost: number): Promise<BudgetHold> {
  const admission = await budgets.reserve(scopes, estimatedCost);
  if (!admission.admitted) throw budgetExceeded(admission.refusal);
  return admission.hold;
}
