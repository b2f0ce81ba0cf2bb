// The 429 a client gets from a spent budget: the OpenAI error shape, LiteLLM's type and code, a message that
// names the scope by alias (never the key), its spend, its budget and when it resets, x-should-retry: false
// and no Retry-After.
import assert from "node:assert/strict";
import { test } from "node:test";
import { admitBudgets, BudgetExceededError, budgetExceeded, formatSpend, MemoryBudgets } from "../../../src/proxy/budgets/index.js";
import { toHttpError } from "../../../src/proxy/http/errors.js";
import { FakeClock } from "../router/helpers.js";
import { keyScope, START, teamScope } from "./helpers.js";

const LIMITS = { bodyLimitBytes: 1024 };

test("a key over its budget: 429, budget_exceeded, its alias, spend and budget, x-should-retry: false, no Retry-After", async () => {
  const budgets = new MemoryBudgets({ clock: new FakeClock(START) });
  const error = await admitBudgets(budgets, [keyScope({ storedSpend: 10.020000000000001, maxBudget: 10 })], 0.1).then(
    () => assert.fail("admitted"),
    (thrown: unknown) => thrown,
  );
  assert.ok(error instanceof BudgetExceededError);
  const http = toHttpError(error, LIMITS);
  assert.equal(http.status, 429);
  assert.deepEqual(http.body, {
    error: {
      message: "Budget has been exceeded: key 'my-app' has spent 10.02 of its max_budget 10. To go on, raise the key's max_budget (/key/update) or reset its spend.",
      type: "budget_exceeded",
      param: null,
      code: "budget_exceeded",
    },
  });
  assert.deepEqual(http.headers, { "x-should-retry": "false" });
  assert.doesNotMatch(http.body.error.message, /hash-of/);
  await budgets.close();
});

test("a team with a period: the message says when it resets, and what requests in flight reserved", () => {
  const error = budgetExceeded({
    scope: teamScope({ budgetDuration: "30d" }),
    spend: 4.5,
    reserved: 0.75,
    maxBudget: 5,
    resetsAt: Date.parse("2026-02-01T00:00:00Z"),
  });
  assert.equal(
    error.message,
    "Budget has been exceeded: team 'ml' has spent 4.5 of its max_budget 5 (and requests in flight have reserved 0.75 more). " +
      "It resets at 2026-02-01T00:00:00.000Z (budget_duration 30d); to go on before then, raise the team's max_budget (/team/update) or reset its spend.",
  );
  assert.equal(error.status, 429);
  assert.equal(error.retryAfterMs, undefined);
});

test("amounts are shown without float noise, small prices kept", () => {
  assert.equal(formatSpend(0.1 + 0.2), "0.3");
  assert.equal(formatSpend(0.0000015), "0.0000015");
  assert.equal(formatSpend(1234.5), "1234.5");
});
