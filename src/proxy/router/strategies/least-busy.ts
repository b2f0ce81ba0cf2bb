/** least-busy: the deployment with the fewest requests in flight; ties are broken at random. */
import type { Candidate, Random, RoutingStrategy } from "./types.js";
import { lowest, pickUniform } from "./types.js";

export const leastBusy: RoutingStrategy = {
  pick(candidates: readonly Candidate[], random: Random): Candidate {
    return pickUniform(lowest(candidates, (c) => c.stats.inFlight), random);
  },
};
