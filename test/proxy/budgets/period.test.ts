// Which period a row's spend counts in: the row's own while it runs, else the one running now, on the
// row's cadence (its budget_reset_at), as the store resets it.
import assert from "node:assert/strict";
import { test } from "node:test";
import { currentPeriod } from "../../../src/proxy/budgets/index.js";

const at = (iso: string): number => Date.parse(iso);

test("no budget_duration: no period, the row's spend always counts", () => {
  assert.deepEqual(currentPeriod({ periodEndsAt: undefined, budgetDuration: undefined }, at("2026-01-01T00:00:00Z")), { rowIsCurrent: true, endsAt: undefined });
});

test("a period that runs: the row counts, until its end", () => {
  const scope = { periodEndsAt: at("2026-01-02T09:00:00Z"), budgetDuration: "1d" };
  assert.deepEqual(currentPeriod(scope, at("2026-01-02T08:59:59.999Z")), { rowIsCurrent: true, endsAt: scope.periodEndsAt });
});

test("at its end the period is over: the next one began then, and keeps the cadence", () => {
  const scope = { periodEndsAt: at("2026-01-02T09:00:00Z"), budgetDuration: "1d" };
  assert.deepEqual(currentPeriod(scope, at("2026-01-02T09:00:00Z")), {
    rowIsCurrent: false,
    startedAt: at("2026-01-02T09:00:00Z"),
    endsAt: at("2026-01-03T09:00:00Z"),
  });
  assert.deepEqual(currentPeriod(scope, at("2026-01-05T10:00:00Z")), {
    rowIsCurrent: false,
    startedAt: at("2026-01-05T09:00:00Z"),
    endsAt: at("2026-01-06T09:00:00Z"),
  });
});

test("months keep the row's day: a budget ending on the 31st begins on the 31st where the month has one", () => {
  const scope = { periodEndsAt: at("2026-01-31T00:00:00Z"), budgetDuration: "1mo" };
  // Jan 31 → Feb 28 → Mar 31 → Apr 30 → May 31.
  assert.deepEqual(currentPeriod(scope, at("2026-04-15T00:00:00Z")), {
    rowIsCurrent: false,
    startedAt: at("2026-03-31T00:00:00Z"),
    endsAt: at("2026-04-30T00:00:00Z"),
  });
  assert.deepEqual(currentPeriod(scope, at("2026-05-15T00:00:00Z")), {
    rowIsCurrent: false,
    startedAt: at("2026-04-30T00:00:00Z"),
    endsAt: at("2026-05-31T00:00:00Z"),
  });
});
