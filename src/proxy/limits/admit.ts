/**
 * The admit stage's limit check, for the scopes a request carries in with it — its key's and its team's
 * (a deployment's limits are the router's, checked as it picks one). The request is counted against all of
 * them or none, before anything is sent, so the answer's headers already count it.
 *
 * @example
 * const ticket = await admitLimits(limiter, [keyScope, teamScope], estimatedTokens);
 * // …serve the request; whatever happens, when it is over:
 * ticket.done(tokensUsed);
 */
import { limitExceeded } from "./errors.js";
import type { Limiter, Scope, Ticket } from "./types.js";

/** The ticket the request holds until it is done; throws the 429 naming the limit when a scope is full. */
export async function admitLimits(limiter: Limiter, scopes: readonly Scope[], estimatedTokens: number): Promise<Ticket> {
  const admission = await limiter.admit(scopes, estimatedTokens);
  if (!admission.admitted) throw limitExceeded(admission.refusal);
  return admission.ticket;
}
