/**
 * Budget periods, kept as a timestamp on the row rather than by a job every few minutes: a key or team with
 * `budget_duration` has `budget_reset_at`, and the first read or spend at or after that time resets `spend`
 * to 0 and moves `budget_reset_at` to the period's next end (same cadence: a `1d` budget created at 09:00
 * resets at 09:00). The reset is a compare-and-set on the old `budget_reset_at`, so instances that notice it
 * together reset once, and spend added meanwhile lands on one side of the reset, never lost.
 */
import type { Kysely } from "kysely";
import { addDuration, nextPeriodEnd, parseDuration } from "../duration.js";
import { iso, toDateOrNull } from "./codec.js";
import type { Tables } from "./tables.js";

export type BudgetTable = "xgate_keys" | "xgate_teams";

const PRIMARY = { xgate_keys: "token", xgate_teams: "team_id" } as const;

export interface BudgetState {
  /** The row's primary key. */
  id: string;
  budget_duration: string | null;
  budget_reset_at: Date | string | null;
}

/** `budget_reset_at` for a budget whose period starts `now`; null without a duration. */
export function firstResetAt(duration: string | null | undefined, now: Date): Date | null {
  return duration ? addDuration(now, parseDuration(duration)) : null;
}

/** The next `budget_reset_at` when the current period is over at `now`; undefined while it runs. */
export function resetDue(duration: string | null, resetAt: Date | null, now: Date): Date | undefined {
  if (!duration || !resetAt || resetAt > now) return undefined;
  return nextPeriodEnd(resetAt, parseDuration(duration), now);
}

/** Resets the budget if its period is over; answers the new reset time when this call did it. */
export async function resetIfDue(tx: Kysely<Tables>, table: BudgetTable, row: BudgetState, now: Date): Promise<Date | undefined> {
  const previous = toDateOrNull(row.budget_reset_at);
  const next = resetDue(row.budget_duration, previous, now);
  if (!next || !previous) return undefined;
  const result = await tx
    .updateTable(table)
    .set({ spend: 0, budget_reset_at: iso(next) })
    .where(PRIMARY[table], "=", row.id)
    .where("budget_reset_at", "=", iso(previous))
    .executeTakeFirst();
  return result.numUpdatedRows > 0n ? next : undefined;
}

/** Adds `amount` to the row's spend in one statement (no lost update between instances), after a due reset. */
export async function addSpend(tx: Kysely<Tables>, table: BudgetTable, row: BudgetState, amount: number, now: Date): Promise<void> {
  await resetIfDue(tx, table, row, now);
  await tx
    .updateTable(table)
    .set((eb) => ({ spend: eb("spend", "+", amount) }))
    .where(PRIMARY[table], "=", row.id)
    .execute();
}

/**
 * Resets the budget if its period is over; answers whether it was, in which case the row holds the new
 * period (reset here, or by another instance just now) and must be read again.
 */
export async function periodWasOver(db: Kysely<Tables>, table: BudgetTable, row: BudgetState, now: Date): Promise<boolean> {
  if (!resetDue(row.budget_duration, toDateOrNull(row.budget_reset_at), now)) return false;
  await resetIfDue(db, table, row, now);
  return true;
}
