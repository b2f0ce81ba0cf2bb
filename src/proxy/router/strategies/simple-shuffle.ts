/**
 * simple-shuffle (LiteLLM's default): a weighted random pick. Weights come from `weight` when any deployment
 * sets one (a deployment without one then counts as weight 1, where LiteLLM would never pick it); else from
 * `rpm`, else `tpm`, when every deployment sets it; else every deployment is equally likely.
 */
import type { Candidate, Random, RoutingStrategy } from "./types.js";
import { pickWeighted } from "./types.js";

function weightsOf(candidates: readonly Candidate[]): number[] | undefined {
  const deployments = candidates.map((c) => c.deployment);
  if (deployments.some((d) => d.weight !== undefined)) return deployments.map((d) => d.weight ?? 1);
  if (deployments.every((d) => d.rpm !== undefined)) return deployments.map((d) => d.rpm ?? 0);
  if (deployments.every((d) => d.tpm !== undefined)) return deployments.map((d) => d.tpm ?? 0);
  return undefined;
}

export const simpleShuffle: RoutingStrategy = {
  pick(candidates: readonly Candidate[], random: Random): Candidate {
    return pickWeighted(candidates, weightsOf(candidates) ?? candidates.map(() => 1), random);
  },
};
