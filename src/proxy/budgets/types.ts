/**
 * The budgets' contract, the same in process and in Redis: a key's and its team's `max_budget`, checked
 * before a request is served and charged after.
 *
 * The store's `spend` lags: spend rows reach the database in batches (spend/journal.ts). So a budget is
 * checked against live spend — the row's spend, what was settled since that the row does not have yet, and
 * the estimates of the requests in flight — and an admitted request reserves its estimate on every scope
 * at once; settling replaces the estimate by the actual cost. Concurrent requests then overshoot a budget
 * by no more than the requests already in flight when it was reached.
 */
import type { LimiterState } from "../limits/types.js";

/** What a budget belongs to. */
export type BudgetScopeKind = "key" | "team";

/** A key's or a team's budget, with the row's spend as the store last answered it. */
export interface BudgetScope {
  kind: BudgetScopeKind;
  /** A key's hash (`token`) or a team's `team_id`; never a key itself. */
  id: string;
  /** How messages name it: a key's alias (else its `key_name`), a team's alias (else its id). Never a key. */
  name: string;
  /** `max_budget`: none, nothing is refused (spend is still followed, for `x-litellm-key-spend`). */
  maxBudget: number | undefined;
  /** `soft_budget`: only warns (see `BudgetHold.softExceeded`). */
  softBudget: number | undefined;
  /** `spend` in the row as read from the store. */
  storedSpend: number;
  /**
   * When that row was read (ms since the epoch), taken before the query was sent: spend the database took
   * after it is not in `storedSpend`.
   */
  readAt: number;
  /**
   * A key's token before its last regenerate (`previous_token`): what requests under the old value settled
   * that the row does not have yet still counts toward the key, whose spend the store adds them to.
   */
  previousId?: string;
  /** `budget_reset_at` in ms; undefined: no period. */
  periodEndsAt: number | undefined;
  budgetDuration: string | undefined;
}

/** Why a request was refused: the first scope, key before team, whose live spend had reached its budget. */
export interface BudgetRefusal {
  scope: BudgetScope;
  /** The scope's settled spend when the request came. */
  spend: number;
  /** What requests in flight had reserved on it then. */
  reserved: number;
  maxBudget: number;
  /** When the budget's period ends and spend starts again from 0 (ms); undefined without a period. */
  resetsAt: number | undefined;
}

/**
 * An admitted request's reservation. `settle` and `release` may be called more than once and in any
 * order; only the first call counts.
 */
export interface BudgetHold {
  /**
   * Each scope's settled spend when the request was admitted, by `budgetKey` — every scope given,
   * budgeted or not; reservations are not in it. What `x-litellm-key-spend` shows on an answer whose
   * headers go out before its cost is known.
   */
  readonly spend: ReadonlyMap<string, number>;
  /** The first scope whose settled spend had reached its `soft_budget` (a warning, never a refusal). */
  readonly softExceeded: BudgetScope | undefined;
  /**
   * The request is over and cost `cost`: the cost replaces the estimate on every scope. Answers each
   * scope's spend with it (`spend` + `cost`): what `x-litellm-key-spend` shows once the cost is known.
   */
  settle(cost: number): ReadonlyMap<string, number>;
  /** The request was never served (refused further on): its reservation is dropped, nothing is charged. */
  release(): void;
}

export type BudgetAdmission = { admitted: true; hold: BudgetHold } | { admitted: false; refusal: BudgetRefusal };

/** A spend row that reached the database: its key's hash (`''`: the master key) and team. */
export interface CommittedSpend {
  api_key: string;
  team_id: string | null;
  spend: number;
}

export interface Budgets {
  /**
   * Admits a request against every budgeted scope at once, reserving `estimatedCost` on each, or refuses it
   * without reserving anything: refused when a scope's live spend (reservations included) is at or above
   * its `max_budget`. Never waits long: see RedisBudgets.
   */
  reserve(scopes: readonly BudgetScope[], estimatedCost: number): Promise<BudgetAdmission>;
  /** A journal batch reached the database: these rows' spend is in the store's rows from now on. */
  committed(rows: readonly CommittedSpend[]): void;
  /**
   * An admin changed the row (spend reset or set, budget or period changed): the next reserve starts again
   * from the row as read after the change.
   */
  forget(kind: BudgetScopeKind, id: string): void;
  /** Where spend is counted now, for `/health/readiness`; same modes as the rate limits'. */
  state(): BudgetsState;
  /** Resolves once counting can be shared (Redis connected), or is known not to be for now. Never rejects. */
  ready(): Promise<void>;
  /** Settles what is pending and releases connections and timers. */
  close(): Promise<void>;
}

export type BudgetsState = LimiterState;

/** A scope's identity across kinds. */
export function budgetKey(scope: Pick<BudgetScope, "kind" | "id">): string {
  return `${scope.kind}:${scope.id}`;
}

/** Whether a scope has a budget to enforce: others are not counted against anything. */
export function isBudgeted(scope: BudgetScope): scope is BudgetScope & { maxBudget: number } {
  return scope.maxBudget !== undefined;
}
