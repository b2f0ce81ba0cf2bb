/**
 * Budgets in this process: the budgets of one instance, and what shared budgets fall back to while Redis is
 * away. Whatever counts the reservations, this is also where an instance keeps the spend it settled that
 * the store's rows do not have yet — RedisBudgets starts a shared count from it.
 *
 * A scope's live spend here is its row's `spend`, plus what this instance settled that has not reached the
 * database, plus what reached the database after the row was read, plus the estimates of the requests in
 * flight. Spend that reached the database is remembered by when it did (`commitMemoryMs`), so that a row
 * read before then is known not to have it and a row read after is not charged twice.
 */
import { type Clock, systemClock } from "../router/clock.js";
import { currentPeriod } from "./period.js";
import {
  type BudgetAdmission,
  type BudgetHold,
  budgetKey,
  type BudgetRefusal,
  type Budgets,
  type BudgetScope,
  type BudgetScopeKind,
  type BudgetsState,
  type CommittedSpend,
  isBudgeted,
} from "./types.js";

/**
 * How long spend that reached the database is remembered: longer than any row a caller may still hand in
 * was read before it (the key cache's longest-lived row), or that row would be counted without it.
 */
export const DEFAULT_COMMIT_MEMORY_MS = 15 * 60_000;
const SWEEP_MS = 60_000;
/** Sums of floating-point costs leave residues like 1e-18 where 0 is meant; below this, 0 it is. */
const RESIDUE = 1e-12;

interface Commit {
  /** When the database had it. */
  at: number;
  amount: number;
  /** The amounts of the ledger's commits up to this one, itself included (pruned ones too): sums since a time are differences. */
  through: number;
}

/** One scope's spend as this instance knows it beyond its row. */
interface Ledger {
  /** Settled here and not yet in the database (the journal has it). */
  uncommitted: number;
  /** Spend the database took, oldest first. */
  commits: Commit[];
  /** Estimates of the requests admitted here and not yet over. */
  reserved: number;
  holds: number;
}

/** A cost as counted: a finite amount of at least 0. */
export function amountOf(cost: number): number {
  return Number.isFinite(cost) && cost > 0 ? cost : 0;
}

function lessResidue(value: number): number {
  return value < RESIDUE ? 0 : value;
}

/** The first scope at or above its `soft_budget`, by the spend each had. */
export function softExceeded(scopes: readonly BudgetScope[], spend: ReadonlyMap<string, number>): BudgetScope | undefined {
  return scopes.find((scope) => scope.softBudget !== undefined && (spend.get(budgetKey(scope)) ?? 0) >= scope.softBudget);
}

/** Each scope's spend with `cost` added. */
export function withCost(spend: ReadonlyMap<string, number>, cost: number): Map<string, number> {
  return new Map([...spend].map(([key, value]) => [key, value + amountOf(cost)]));
}

export interface MemoryBudgetsOptions {
  clock?: Clock;
  commitMemoryMs?: number;
}

export class MemoryBudgets implements Budgets {
  private readonly ledgers = new Map<string, Ledger>();
  private readonly clock: Clock;
  private readonly commitMemoryMs: number;
  private cancelSweep: (() => void) | undefined;

  constructor(options: MemoryBudgetsOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.commitMemoryMs = options.commitMemoryMs ?? DEFAULT_COMMIT_MEMORY_MS;
    this.sweep();
  }

  async reserve(scopes: readonly BudgetScope[], estimatedCost: number): Promise<BudgetAdmission> {
    return this.reserveNow(scopes, estimatedCost);
  }

  committed(rows: readonly CommittedSpend[]): void {
    const now = this.clock.now();
    const totals = new Map<string, number>();
    const add = (key: string, spend: number): void => {
      if (amountOf(spend) > 0) totals.set(key, (totals.get(key) ?? 0) + spend);
    };
    for (const row of rows) {
      if (row.api_key !== "") add(budgetKey({ kind: "key", id: row.api_key }), row.spend);
      if (row.team_id !== null) add(budgetKey({ kind: "team", id: row.team_id }), row.spend);
    }
    for (const [key, amount] of totals) {
      // A row this instance did not settle (a journal replayed from an earlier run) still reached the row.
      const ledger = this.ledgerAt(key);
      ledger.uncommitted = lessResidue(ledger.uncommitted - amount);
      // Kept in time order (a clock stepped back does not reorder them), so that a time is found by bisection.
      const last = ledger.commits.at(-1);
      ledger.commits.push({ at: Math.max(now, last?.at ?? now), amount, through: (last?.through ?? 0) + amount });
      this.prune(ledger, now);
    }
  }

  /** What the database took before the change is in the row read after it, or was wiped by it: only that row counts. */
  forget(kind: BudgetScopeKind, id: string): void {
    const ledger = this.ledgers.get(budgetKey({ kind, id }));
    if (ledger !== undefined) ledger.commits = [];
  }

  state(): BudgetsState {
    return { mode: "in-process", detail: "spend counted by this process alone (no Redis configured)" };
  }

  async ready(): Promise<void> {}

  async close(): Promise<void> {
    this.cancelSweep?.();
    this.cancelSweep = undefined;
  }

  /** `reserve`, synchronously: shared budgets falling back call it without a turn of the event loop. */
  reserveNow(scopes: readonly BudgetScope[], estimatedCost: number): BudgetAdmission {
    const now = this.clock.now();
    const spend = new Map<string, number>();
    for (const scope of scopes) {
      const ledgers = this.ledgersOf(scope);
      const settled = this.settledIn(ledgers, scope, now);
      spend.set(budgetKey(scope), settled);
      if (!isBudgeted(scope)) continue;
      const reserved = total(ledgers, (ledger) => ledger.reserved);
      if (settled + reserved >= scope.maxBudget) {
        const refusal: BudgetRefusal = { scope, spend: settled, reserved, maxBudget: scope.maxBudget, resetsAt: currentPeriod(scope, now).endsAt };
        return { admitted: false, refusal };
      }
    }
    const reservation = amountOf(estimatedCost);
    // Every scope's ledger is held, budgeted or not, so that none is swept before the request settles in it.
    const held = scopes.map((scope) => {
      const ledger = this.ledgerAt(budgetKey(scope));
      const reserved = isBudgeted(scope) ? reservation : 0;
      ledger.reserved += reserved;
      ledger.holds++;
      return { ledger, reserved };
    });
    return { admitted: true, hold: new MemoryHold(held, spend, softExceeded(scopes, spend)) };
  }

  /**
   * A scope's settled spend as this instance knows it: the row's (0 once its period is over), what was
   * settled here since, and what the database took after the row was read (after the period began) —
   * under the scope's id and, for a regenerated key, under its previous token too.
   */
  settledSpend(scope: BudgetScope, now: number): number {
    return this.settledIn(this.ledgersOf(scope), scope, now);
  }

  private settledIn(ledgers: readonly Ledger[], scope: BudgetScope, now: number): number {
    const uncommitted = total(ledgers, (ledger) => ledger.uncommitted);
    const period = currentPeriod(scope, now);
    if (period.rowIsCurrent) return scope.storedSpend + uncommitted + committedSince(ledgers, scope.readAt, false);
    return uncommitted + committedSince(ledgers, period.startedAt, true);
  }

  /**
   * The ledgers a scope's spend is counted in: its own and, for a key regenerated (see
   * `BudgetScope.previousId`), its previous token's, which the requests under the old value settled in.
   */
  private ledgersOf(scope: BudgetScope): Ledger[] {
    const ledgers: Ledger[] = [];
    const own = this.ledgers.get(budgetKey(scope));
    if (own !== undefined) ledgers.push(own);
    if (scope.previousId !== undefined) {
      const previous = this.ledgers.get(budgetKey({ kind: scope.kind, id: scope.previousId }));
      if (previous !== undefined) ledgers.push(previous);
    }
    return ledgers;
  }

  /** Charges every scope `cost`, budgeted or not (live spend is shown for all), until the database has it. */
  recordSettled(scopes: readonly BudgetScope[], cost: number): void {
    const amount = amountOf(cost);
    if (amount === 0) return;
    for (const scope of scopes) this.ledgerAt(budgetKey(scope)).uncommitted += amount;
  }

  private ledgerAt(key: string): Ledger {
    let ledger = this.ledgers.get(key);
    if (ledger === undefined) {
      ledger = { uncommitted: 0, commits: [], reserved: 0, holds: 0 };
      this.ledgers.set(key, ledger);
    }
    return ledger;
  }

  private prune(ledger: Ledger, now: number): void {
    const oldest = now - this.commitMemoryMs;
    const kept = ledger.commits.findIndex((commit) => commit.at >= oldest);
    if (kept !== 0) ledger.commits.splice(0, kept === -1 ? ledger.commits.length : kept);
  }

  /** Forgets, once a minute, what no longer matters: old commits, and scopes with nothing left to count. */
  private sweep(): void {
    this.cancelSweep = this.clock.setTimer(
      SWEEP_MS,
      () => {
        const now = this.clock.now();
        for (const [key, ledger] of this.ledgers) {
          this.prune(ledger, now);
          if (ledger.holds === 0 && ledger.uncommitted === 0 && ledger.commits.length === 0) this.ledgers.delete(key);
        }
        this.sweep();
      },
      { unref: true },
    );
  }
}

/** What a request holds in one scope's ledger. */
interface Held {
  ledger: Ledger;
  reserved: number;
}

/**
 * A request's reservation in this process: the ledgers of its scopes, held (not swept) until it ends. A
 * class, not closures: one is made per request.
 */
class MemoryHold implements BudgetHold {
  private answer: ReadonlyMap<string, number> | undefined;

  constructor(
    private readonly held: readonly Held[],
    readonly spend: ReadonlyMap<string, number>,
    readonly softExceeded: BudgetScope | undefined,
  ) {}

  settle(cost: number): ReadonlyMap<string, number> {
    return this.end(cost);
  }

  release(): void {
    this.end(undefined);
  }

  /** Gives back the reservation and, for a request served, charges its cost in every scope until the database has it. */
  private end(cost: number | undefined): ReadonlyMap<string, number> {
    if (this.answer !== undefined) return this.answer;
    const charged = cost === undefined ? 0 : amountOf(cost);
    for (const { ledger, reserved } of this.held) {
      ledger.holds = Math.max(0, ledger.holds - 1);
      ledger.reserved = ledger.holds === 0 ? 0 : lessResidue(ledger.reserved - reserved);
      ledger.uncommitted += charged;
    }
    this.answer = cost === undefined ? this.spend : withCost(this.spend, cost);
    return this.answer;
  }
}

function total(ledgers: readonly Ledger[], amount: (ledger: Ledger) => number): number {
  let sum = 0;
  for (const ledger of ledgers) sum += amount(ledger);
  return sum;
}

/**
 * What the database took in these ledgers since `from` (ms): at it too when `inclusive`. A ledger holds a
 * commit per batch for the commit memory (thousands, under load): it is bisected, not walked, on every request.
 */
function committedSince(ledgers: readonly Ledger[], from: number, inclusive: boolean): number {
  let sum = 0;
  for (const { commits } of ledgers) {
    // The first commit that counts.
    let low = 0;
    let high = commits.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      const at = (commits[middle] as Commit).at;
      if (at > from || (inclusive && at === from)) high = middle;
      else low = middle + 1;
    }
    if (low === commits.length) continue;
    const first = commits[low] as Commit;
    sum += (commits[commits.length - 1] as Commit).through - (first.through - first.amount);
  }
  return lessResidue(sum);
}
