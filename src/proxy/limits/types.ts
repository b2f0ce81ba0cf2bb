/**
 * The limiter's contract, the same in process and in Redis (see index.ts for the window it keeps).
 *
 * A request is admitted against all its scopes at once — a key, its team, the deployment it goes to — and
 * holds a ticket until it is done: the ticket gives back its parallel slot and replaces its token estimate
 * with what the request used.
 */

/** What a limit applies to. Budgets and keys name scopes by these words too. */
export type ScopeKind = "key" | "team" | "deployment";

/** LiteLLM's names for the limits, as configs, keys and teams spell them; messages use them too. */
export type LimitName = "rpm_limit" | "tpm_limit" | "max_parallel_requests";

export interface Limits {
  /** Requests a minute. */
  rpm?: number | undefined;
  /** Tokens a minute. */
  tpm?: number | undefined;
  /** Requests in flight at once. */
  maxParallel?: number | undefined;
}

export interface Scope {
  kind: ScopeKind;
  /** Stable and unique within its kind: a key's hash, a team's id, a deployment's id. Never a key itself. */
  id: string;
  /** How messages name it: a key's alias, a team's alias, a deployment's id — never a key. */
  name: string;
  limits: Limits;
}

/** What a scope has counted in the current window, and in flight. */
export interface Usage {
  requests: number;
  tokens: number;
  parallel: number;
}

/** One side of the `x-ratelimit-*` headers: a limit and what is left of it. */
export interface Allowance {
  limit: number;
  remaining: number;
}

/** What `x-ratelimit-{limit,remaining}-{requests,tokens}` say: the tightest allowance of each kind. */
export interface Quota {
  requests?: Allowance | undefined;
  tokens?: Allowance | undefined;
}

/** An admitted request's hold on its scopes. Every method may be called more than once; only the first counts. */
export interface Ticket {
  /** What is left of the scopes' limits, this request counted. */
  readonly quota: Quota;
  /** Each scope's usage once this request was counted, by `scopeKey`. */
  readonly usage: ReadonlyMap<string, Usage>;
  /**
   * The request is over, however it ended: its parallel slot is given back, and `tokens` (what it used)
   * replaces its estimate. Without `tokens` (not known: the client left, the call broke) the estimate stands.
   */
  done(tokens?: number): void;
  /** The request was never served (refused further on): its request, tokens and slot are all given back. */
  refund(): void;
}

export interface Refusal {
  scope: Scope;
  limit: LimitName;
  /** The limit's value. */
  max: number;
  /** What the scope had counted against it when the request came. */
  used: number;
  /** When the limit frees enough capacity for the request; undefined when no wait can (a limit below one request). */
  retryAfterMs: number | undefined;
  /** What is left of the scopes' limits (nothing of the refused one), for the 429's headers. */
  quota: Quota;
  /** Each scope's usage when the request came, by `scopeKey`. */
  usage: ReadonlyMap<string, Usage>;
}

export type Admission = { admitted: true; ticket: Ticket } | { admitted: false; refusal: Refusal };

/**
 * Where the counts live now, for `/health/readiness`: `shared` in Redis (every instance counts together),
 * `per-instance` (Redis is configured but unreachable: each instance counts on its own until it is back),
 * `in-process` (no Redis configured).
 */
export interface LimiterState {
  mode: "shared" | "per-instance" | "in-process";
  detail: string;
}

export interface Limiter {
  /**
   * Admits a request against every scope at once, counting it (one request, `estimatedTokens` reserved, a
   * parallel slot), or refuses it without counting it anywhere. Never waits long: see RedisLimiter.
   */
  admit(scopes: readonly Scope[], estimatedTokens: number): Promise<Admission>;
  /** What each scope has counted now, by `scopeKey`. */
  usage(scopes: readonly Scope[]): Promise<Map<string, Usage>>;
  state(): LimiterState;
  /** Resolves once counting can be shared (Redis connected), or is known not to be for now. Never rejects. */
  ready(): Promise<void>;
  /** Settles what is pending and releases connections and timers. */
  close(): Promise<void>;
}

/** A scope's identity across kinds: the key of its counts. */
export function scopeKey(scope: Pick<Scope, "kind" | "id">): string {
  return `${scope.kind}:${scope.id}`;
}

/** Whether the scope has any limit to enforce: scopes without one cost nothing. */
export function isLimited(scope: Scope): boolean {
  const { rpm, tpm, maxParallel } = scope.limits;
  return rpm !== undefined || tpm !== undefined || maxParallel !== undefined;
}
