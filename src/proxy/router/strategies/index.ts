import type { RoutingStrategyName } from "../config.js";
import { latencyBased } from "./latency-based.js";
import { leastBusy } from "./least-busy.js";
import { simpleShuffle } from "./simple-shuffle.js";
import type { RoutingStrategy } from "./types.js";
import { usageBased } from "./usage-based.js";

export type { Candidate, Random, RoutingStrategy } from "./types.js";

export function strategyFor(name: RoutingStrategyName): RoutingStrategy {
  switch (name) {
    case "simple-shuffle":
      return simpleShuffle;
    case "least-busy":
      return leastBusy;
    case "latency-based-routing":
      return latencyBased();
    case "usage-based-routing":
      return usageBased;
  }
}
