/**
 * The 429 a limit answers with: the OpenAI error shape, `type` LiteLLM's word for a limit it enforces
 * (`throttling_error`), a stable code — `rate_limit_exceeded` (rpm, tpm), `parallel_request_limit_reached`,
 * or `rate_limit_allows_nothing` for a limit no wait can satisfy (then `x-should-retry: false`, no
 * Retry-After) — a message naming the limit, its scope (a key by its alias, never the key) and when to
 * retry, and the quota for the `x-ratelimit-*` headers (see http/errors.ts).
 */
import { RateLimitError } from "../../errors.js";
import type { LimitName, Quota, Refusal, ScopeKind } from "./types.js";

export const LIMIT_ERROR_TYPE = "throttling_error";

/** The codes a key's or team's limit refuses with (an rpm or tpm limit; a parallel one; one that admits nothing). */
export const LIMIT_CODES = {
  exceeded: "rate_limit_exceeded",
  parallel: "parallel_request_limit_reached",
  allowsNothing: "rate_limit_allows_nothing",
} as const;

export class LimitExceededError extends RateLimitError {
  /** What is left of the limits the request went through, for its headers. */
  readonly quota: Quota;

  constructor(message: string, options: { code: string; retryAfterMs: number | undefined; quota: Quota }) {
    super(message, {
      code: options.code,
      type: LIMIT_ERROR_TYPE,
      ...(options.retryAfterMs !== undefined && { retryAfterMs: options.retryAfterMs }),
    });
    this.quota = options.quota;
  }
}

/** How a limit is spelled where it is set: `litellm_params` for a deployment, the key's or team's fields otherwise. */
export function limitLabel(kind: ScopeKind, limit: LimitName): string {
  if (kind !== "deployment") return limit;
  return limit === "rpm_limit" ? "rpm" : limit === "tpm_limit" ? "tpm" : "max_parallel_requests";
}

/** "key 'my-app' is at its rpm_limit (5 requests a minute)" — what a refusal is, in words. */
export function describeRefusal(refusal: Refusal): string {
  const { scope, limit, max } = refusal;
  const label = limitLabel(scope.kind, limit);
  const who = `${scope.kind} '${scope.name}'`;
  switch (limit) {
    case "rpm_limit":
      return `${who} is at its ${label} (${max} requests a minute)`;
    case "tpm_limit":
      return `${who} is at its ${label} (${max} tokens a minute; ${refusal.used} counted in the last minute)`;
    case "max_parallel_requests":
      return `${who} is at its ${label} (${max} in flight at once)`;
  }
}

export function retryAdvice(retryAfterMs: number): string {
  return `Retry in ${Math.max(1, Math.ceil(retryAfterMs / 1000))} s.`;
}

/** The error for a refused request. */
export function limitExceeded(refusal: Refusal): LimitExceededError {
  const { retryAfterMs, quota } = refusal;
  if (retryAfterMs === undefined) {
    return new LimitExceededError(
      `Rate limit: ${refusal.scope.kind} '${refusal.scope.name}' has ${limitLabel(refusal.scope.kind, refusal.limit)} ${refusal.max}, ` +
        "which admits no request: raise the limit.",
      { code: LIMIT_CODES.allowsNothing, retryAfterMs, quota },
    );
  }
  const code = refusal.limit === "max_parallel_requests" ? LIMIT_CODES.parallel : LIMIT_CODES.exceeded;
  const when = refusal.limit === "max_parallel_requests" ? "Retry when one of them is done, in about 1 s." : retryAdvice(retryAfterMs);
  return new LimitExceededError(`Rate limit exceeded: ${describeRefusal(refusal)}. ${when}`, { code, retryAfterMs, quota });
}
