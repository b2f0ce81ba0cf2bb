/**
 * latency-based-routing: the deployment with the lowest mean recent latency. Any deployment within a buffer
 * of the fastest (10 % by default, as LiteLLM's `lowest_latency_buffer`) is as likely, so that load spreads
 * over near-equals instead of piling onto one. A deployment without recent samples counts as fastest, so new
 * and recovered deployments get measured.
 */
import type { Candidate, Random, RoutingStrategy } from "./types.js";
import { pickUniform } from "./types.js";

const DEFAULT_LATENCY_BUFFER = 0.1;

export function latencyBased(buffer = DEFAULT_LATENCY_BUFFER): RoutingStrategy {
  return {
    pick(candidates: readonly Candidate[], random: Random): Candidate {
      const unmeasured = candidates.filter((c) => c.stats.latencyMs === undefined);
      if (unmeasured.length > 0) return pickUniform(unmeasured, random);
      const fastest = Math.min(...candidates.map((c) => c.stats.latencyMs ?? 0));
      const near = candidates.filter((c) => (c.stats.latencyMs ?? 0) <= fastest * (1 + buffer));
      return pickUniform(near, random);
    },
  };
}
