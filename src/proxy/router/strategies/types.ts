import type { Usage } from "../../limits/index.js";
import type { Deployment } from "../deployment.js";
import type { DeploymentStats } from "../state.js";

/** A healthy deployment the strategy may pick, with its current stats. */
export interface Candidate {
  deployment: Deployment;
  stats: DeploymentStats;
  /** What its `rpm`/`tpm` limits have counted this minute (the limiter's); undefined without such limits. */
  usage: Usage | undefined;
}

/** A source of floats in [0, 1): Math.random in production, a seeded PRNG in tests. */
export type Random = () => number;

export interface RoutingStrategy {
  /** Picks one of `candidates`, which is never empty. */
  pick(candidates: readonly Candidate[], random: Random): Candidate;
}

export function pickUniform<T>(items: readonly T[], random: Random): T {
  const item = items[Math.min(items.length - 1, Math.floor(random() * items.length))];
  if (item === undefined) throw new RangeError("pickUniform needs at least one item");
  return item;
}

/** Picks with probability proportional to weight; uniformly when no weight is positive. */
export function pickWeighted<T>(items: readonly T[], weights: readonly number[], random: Random): T {
  const total = weights.reduce((sum, w) => sum + w, 0);
  if (!(total > 0)) return pickUniform(items, random);
  let point = random() * total;
  for (let i = 0; i < items.length; i++) {
    point -= weights[i] ?? 0;
    if (point < 0 && (weights[i] ?? 0) > 0) return items[i] as T;
  }
  // Rounding can leave `point` a hair above zero: the last positively weighted item takes it.
  for (let i = items.length - 1; i >= 0; i--) if ((weights[i] ?? 0) > 0) return items[i] as T;
  return pickUniform(items, random);
}

/** All items whose score equals the lowest score. */
export function lowest<T>(items: readonly T[], score: (item: T) => number): T[] {
  let best = Number.POSITIVE_INFINITY;
  let chosen: T[] = [];
  for (const item of items) {
    const s = score(item);
    if (s < best) {
      best = s;
      chosen = [item];
    } else if (s === best) {
      chosen.push(item);
    }
  }
  return chosen.length === 0 ? [...items] : chosen;
}
