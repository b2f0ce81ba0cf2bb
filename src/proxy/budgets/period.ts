/**
 * Which budget period a scope's spend counts in at a given time. A row keeps the end of its period
 * (`budget_reset_at`); once that is past, the store resets the row at its next spend or read
 * (store/budget.ts), and spend the database takes from then on is the new period's. A row read before the
 * end still holds the old period's spend: that spend no longer counts, and the period that runs now started
 * at the last boundary of the row's cadence (a `1d` budget reset at 09:00 keeps resetting at 09:00).
 */
import { addDuration, type Duration, parseDuration } from "../duration.js";
import { resetDue } from "../store/budget.js";
import type { BudgetScope } from "./types.js";

export type CurrentPeriod =
  /** The row's spend counts: its period runs (or it has none). */
  | { rowIsCurrent: true; endsAt: number | undefined }
  /** The row's period is over: the period that runs now started at `startedAt`, from 0. */
  | { rowIsCurrent: false; startedAt: number; endsAt: number };

/** The last boundary of the cadence through `anchor` that is at or before `end`'s predecessor: the current period's start. */
function periodStart(anchor: Date, duration: Duration, end: Date): number {
  if (duration.unit !== "mo") return addDuration(end, duration, -1).getTime();
  // Months are counted from the anchor (a 31st stays the 31st where the month has one), not back from `end`.
  let start = anchor;
  for (let periods = 1; ; periods++) {
    const next = addDuration(anchor, duration, periods);
    if (next >= end) return start.getTime();
    start = next;
  }
}

export function currentPeriod(scope: Pick<BudgetScope, "periodEndsAt" | "budgetDuration">, now: number): CurrentPeriod {
  const { periodEndsAt, budgetDuration } = scope;
  if (periodEndsAt === undefined || budgetDuration === undefined) return { rowIsCurrent: true, endsAt: undefined };
  const anchor = new Date(periodEndsAt);
  const next = resetDue(budgetDuration, anchor, new Date(now));
  if (next === undefined) return { rowIsCurrent: true, endsAt: periodEndsAt };
  return { rowIsCurrent: false, startedAt: periodStart(anchor, parseDuration(budgetDuration), next), endsAt: next.getTime() };
}
