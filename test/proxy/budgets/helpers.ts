/** Scopes and assertions the budgets' tests share. */
import assert from "node:assert/strict";
import type { BudgetHold, BudgetRefusal, Budgets, BudgetScope } from "../../../src/proxy/budgets/index.js";

export const START = 1_700_000_000_000;

export function keyScope(over: Partial<BudgetScope> = {}): BudgetScope {
  return {
    kind: "key",
    id: "hash-of-my-app",
    name: "my-app",
    maxBudget: 10,
    softBudget: undefined,
    storedSpend: 0,
    readAt: START,
    periodEndsAt: undefined,
    budgetDuration: undefined,
    ...over,
  };
}

export function teamScope(over: Partial<BudgetScope> = {}): BudgetScope {
  return keyScope({ kind: "team", id: "team-ml", name: "ml", ...over });
}

export async function admitted(budgets: Budgets, scopes: BudgetScope[], estimate = 0): Promise<BudgetHold> {
  const admission = await budgets.reserve(scopes, estimate);
  assert.ok(admission.admitted, `refused: ${admission.admitted ? "" : `${admission.refusal.scope.name} at ${admission.refusal.spend}+${admission.refusal.reserved}`}`);
  return admission.hold;
}

export async function refused(budgets: Budgets, scopes: BudgetScope[], estimate = 0): Promise<BudgetRefusal> {
  const admission = await budgets.reserve(scopes, estimate);
  assert.ok(!admission.admitted, "admitted, but should have been refused");
  return admission.refusal;
}

/** A scope's settled spend as the budgets see it now (shared, where they are): what a request admitted now is shown. */
export async function spendOf(budgets: Budgets, scope: BudgetScope): Promise<number> {
  const hold = await admitted(budgets, [{ ...scope, maxBudget: Number.MAX_VALUE }]);
  hold.release();
  return hold.spend.get(`${scope.kind}:${scope.id}`) ?? Number.NaN;
}

export function close(actual: number | undefined, expected: number): void {
  assert.ok(actual !== undefined && Math.abs(actual - expected) < 1e-9, `${actual} is not ${expected}`);
}

/**
 * Waits until what each instance sent Redis before has run: settles go in the background, and one
 * instance's commands run in order, so a round trip of each is enough. Without it, another instance may
 * read a count before a settle reaches it.
 */
export async function drained(...instances: Budgets[]): Promise<void> {
  await Promise.all(instances.map((budgets) => spendOf(budgets, keyScope({ id: "drain" }))));
}
