/**
 * What a client is told of its limits: `x-ratelimit-{limit,remaining}-{requests,tokens}`, from the tightest
 * of the scopes a request went through (its key, its team, its model group), on every answer that has
 * limits — a 429 included.
 */
import { type Allowance, type Quota, type Scope, scopeKey, type Usage } from "./types.js";

function tighter(a: Allowance | undefined, b: Allowance | undefined): Allowance | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  if (a.remaining !== b.remaining) return a.remaining < b.remaining ? a : b;
  return a.limit <= b.limit ? a : b;
}

/** The tightest allowance of each kind among several quotas. */
export function tightest(quotas: readonly (Quota | undefined)[]): Quota {
  let requests: Allowance | undefined;
  let tokens: Allowance | undefined;
  for (const quota of quotas) {
    requests = tighter(requests, quota?.requests);
    tokens = tighter(tokens, quota?.tokens);
  }
  return { requests, tokens };
}

function allowance(limit: number | undefined, used: number): Allowance | undefined {
  if (limit === undefined) return undefined;
  const whole = Math.floor(limit);
  return { limit: whole, remaining: Math.max(0, whole - used) };
}

/** One scope's quota, from its usage. */
export function scopeQuota(scope: Scope, usage: Usage | undefined): Quota {
  return {
    requests: allowance(scope.limits.rpm, usage?.requests ?? 0),
    tokens: allowance(scope.limits.tpm, usage?.tokens ?? 0),
  };
}

/** The tightest quota of these scopes, from their usage by `scopeKey`. */
export function quotaOf(scopes: readonly Scope[], usage: ReadonlyMap<string, Usage>): Quota {
  return tightest(scopes.map((scope) => scopeQuota(scope, usage.get(scopeKey(scope)))));
}

/** The response headers for these quotas (none when no scope has an rpm or tpm limit). */
export function rateLimitHeaders(quotas: readonly (Quota | undefined)[]): Record<string, string> {
  const { requests, tokens } = tightest(quotas);
  const headers: Record<string, string> = {};
  if (requests !== undefined) {
    headers["x-ratelimit-limit-requests"] = String(requests.limit);
    headers["x-ratelimit-remaining-requests"] = String(requests.remaining);
  }
  if (tokens !== undefined) {
    headers["x-ratelimit-limit-tokens"] = String(tokens.limit);
    headers["x-ratelimit-remaining-tokens"] = String(tokens.remaining);
  }
  return headers;
}
