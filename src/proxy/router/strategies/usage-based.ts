/**
 * usage-based-routing: the deployment with the most headroom left this minute, as the smaller of its rpm and
 * tpm fractions left (a deployment with neither limit has all its headroom). Ties are broken at random. When
 * every deployment is over its limits the one least over is still picked: the upstream is the judge of its
 * limits, and a 429 from it cools the deployment down.
 */
import type { Candidate, Random, RoutingStrategy } from "./types.js";
import { lowest, pickUniform } from "./types.js";

function headroom(candidate: Candidate): number {
  const { rpm, tpm } = candidate.deployment;
  let left = 1;
  if (rpm !== undefined) left = Math.min(left, 1 - candidate.stats.requests / rpm);
  if (tpm !== undefined) left = Math.min(left, 1 - candidate.stats.tokens / tpm);
  return left;
}

export const usageBased: RoutingStrategy = {
  pick(candidates: readonly Candidate[], random: Random): Candidate {
    return pickUniform(lowest(candidates, (c) => -headroom(c)), random);
  },
};
