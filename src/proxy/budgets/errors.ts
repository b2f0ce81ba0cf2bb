/**
 * The 429 a budget answers with, as LiteLLM's current releases do: type and code `budget_exceeded`, a message
 * naming the scope (a key by its alias, never the key), its spend, its `max_budget` and when it resets. Waiting
 * does not help before the reset (and not at all without a period), so the answer carries
 * `x-should-retry: false` and no Retry-After (see http/errors.ts): the `openai` client would otherwise retry.
 */
import { RateLimitError } from "../../errors.js";
import type { BudgetRefusal, BudgetScope } from "./types.js";

export const BUDGET_EXCEEDED = "budget_exceeded";

export class BudgetExceededError extends RateLimitError {
  readonly refusal: BudgetRefusal;

  constructor(refusal: BudgetRefusal) {
    super(describeBudgetRefusal(refusal), { code: BUDGET_EXCEEDED, type: BUDGET_EXCEEDED });
    this.refusal = refusal;
  }
}

/** A sum of money as people write it: no float noise (10.020000000000001 is 10.02), small prices kept. */
export function formatSpend(amount: number): string {
  return String(Number(amount.toPrecision(10)));
}

/** Where the scope's budget is changed: LiteLLM's admin routes. */
function fix(scope: BudgetScope): string {
  return scope.kind === "key" ? "raise the key's max_budget (/key/update) or reset its spend" : "raise the team's max_budget (/team/update) or reset its spend";
}

/** "Budget has been exceeded: key 'my-app' has spent 10.02 of its max_budget 10. …" */
export function describeBudgetRefusal(refusal: BudgetRefusal): string {
  const { scope, spend, reserved, maxBudget, resetsAt } = refusal;
  const inFlight = reserved > 0 ? ` (and requests in flight have reserved ${formatSpend(reserved)} more)` : "";
  const then =
    resetsAt === undefined
      ? `To go on, ${fix(scope)}.`
      : `It resets at ${new Date(resetsAt).toISOString()} (budget_duration ${scope.budgetDuration}); to go on before then, ${fix(scope)}.`;
  return `Budget has been exceeded: ${scope.kind} '${scope.name}' has spent ${formatSpend(spend)} of its max_budget ${formatSpend(maxBudget)}${inFlight}. ${then}`;
}

/** The error for a refused request. */
export function budgetExceeded(refusal: BudgetRefusal): BudgetExceededError {
  return new BudgetExceededError(refusal);
}
