/**
 * Budgets — `max_budget` and `soft_budget` of keys and teams, over their `budget_duration` — checked against
 * live spend before a request and charged after it, behind one contract (types.ts).
 *
 * @example
 * const hold = await admitBudgets(budgets, budgetScopes(key.record, key.team, key.readAt), estimatedCost(pricing, request));
 * // …serve the request; when it is over:
 * const spend = hold.settle(costOf(pricing, usage)); // or hold.release() if it was never served
 */
import type { Clock } from "../router/clock.js";
import { budgetExceeded } from "./errors.js";
import { MemoryBudgets } from "./memory.js";
import type { BudgetHold, Budgets, BudgetScope } from "./types.js";

export { BUDGET_EXCEEDED, BudgetExceededError, budgetExceeded, describeBudgetRefusal, formatSpend } from "./errors.js";
export { DEFAULT_COMMIT_MEMORY_MS, MemoryBudgets } from "./memory.js";
export { currentPeriod, type CurrentPeriod } from "./period.js";
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

export interface CreateBudgetsOptions {
  clock?: Clock;
  /** See MemoryBudgets: longer than the key cache keeps a row. */
  commitMemoryMs?: number;
}

/** This process's budgets. */
export function createBudgets(options: CreateBudgetsOptions = {}): Budgets {
  return new MemoryBudgets({
    ...(options.clock && { clock: options.clock }),
    ...(options.commitMemoryMs !== undefined && { commitMemoryMs: options.commitMemoryMs }),
  });
}

/** The hold the request keeps until it is over; throws the 429 naming the budget when a scope's is spent. */
export async function admitBudgets(budgets: Budgets, scopes: readonly BudgetScope[], estimatedCost: number): Promise<BudgetHold> {
  const admission = await budgets.reserve(scopes, estimatedCost);
  if (!admission.admitted) throw budgetExceeded(admission.refusal);
  return admission.hold;
}
