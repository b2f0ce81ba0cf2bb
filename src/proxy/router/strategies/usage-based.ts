/**
 * usage-based-routing: the deployment with the most headroom left in the last minute, as the smaller of its
 * rpm and tpm fractions left (a deployment with neither limit has all its headroom). Ties are broken at
 * random. The counts are the limiter's, the same that skips a deployment at its limit: one notion of usage.
 */
import type { Candidate, Random, RoutingStrategy } from "./types.js";
import { lowest, pickUniform } from "./types.js";

function headroom(candidate: Candidate): number {
  const { rpm, tpm } = candidate.deployment;
  let left = 1;
  if (rpm !== undefined) left = Math.min(left, 1 - (candidate.usage?.requests ?? 0) / rpm);
  if (tpm !== undefined) left = Math.min(left, 1 - (candidate.usage?.tokens ?? 0) / tpm);
  return left;
}

export const usageBased: RoutingStrategy = {
  pick(candidates: readonly Candidate[], random: Random): Candidate {
    return pickUniform(lowest(candidates, (c) => -headroom(c)), random);
  },
};
