import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { routerSettingsFrom } from "../../../src/proxy/router/config.js";
import { buildDeployments } from "../../../src/proxy/router/deployment.js";
import type { Usage } from "../../../src/proxy/limits/index.js";
import type { DeploymentStats } from "../../../src/proxy/router/state.js";
import { latencyBased } from "../../../src/proxy/router/strategies/latency-based.js";
import { leastBusy } from "../../../src/proxy/router/strategies/least-busy.js";
import { simpleShuffle } from "../../../src/proxy/router/strategies/simple-shuffle.js";
import type { Candidate, RoutingStrategy } from "../../../src/proxy/router/strategies/types.js";
import { usageBased } from "../../../src/proxy/router/strategies/usage-based.js";
import { entry, mulberry32 } from "./helpers.js";

const PICKS = 20_000;

function candidates(
  params: Record<string, Partial<{ weight: number; rpm: number; tpm: number }>>,
  stats: Record<string, Partial<DeploymentStats>> = {},
  usage: Record<string, Partial<Usage>> = {},
): Candidate[] {
  const deployments = buildDeployments(
    Object.entries(params).map(([id, p]) => entry("g", id, p)),
    routerSettingsFrom({ model_list: [] }),
  );
  return deployments.map((deployment) => ({
    deployment,
    stats: { cooldown: undefined, inFlight: 0, latencyMs: undefined, ...stats[deployment.id] },
    usage: { requests: 0, tokens: 0, parallel: 0, ...usage[deployment.id] },
  }));
}

/** Share of picks per deployment id over PICKS picks with a seeded PRNG. */
function shares(strategy: RoutingStrategy, pool: Candidate[], seed = 7): Record<string, number> {
  const random = mulberry32(seed);
  const counts: Record<string, number> = {};
  for (let i = 0; i < PICKS; i++) {
    const id = strategy.pick(pool, random).deployment.id;
    counts[id] = (counts[id] ?? 0) + 1;
  }
  return Object.fromEntries(Object.entries(counts).map(([id, n]) => [id, n / PICKS]));
}

function near(actual: number | undefined, expected: number, tolerance = 0.02): void {
  assert.ok(actual !== undefined && Math.abs(actual - expected) <= tolerance, `expected ≈${expected}, got ${actual}`);
}

describe("simple-shuffle", () => {
  test("weights are respected", () => {
    const s = shares(simpleShuffle, candidates({ a: { weight: 1 }, b: { weight: 3 }, c: { weight: 6 } }));
    near(s.a, 0.1);
    near(s.b, 0.3);
    near(s.c, 0.6);
  });

  test("a deployment without a weight counts as 1 when others have one", () => {
    const s = shares(simpleShuffle, candidates({ a: { weight: 3 }, b: {} }));
    near(s.a, 0.75);
    near(s.b, 0.25);
  });

  test("a weight of 0 is never picked", () => {
    const s = shares(simpleShuffle, candidates({ a: { weight: 0 }, b: { weight: 1 } }));
    assert.equal(s.a, undefined);
    assert.equal(s.b, 1);
  });

  test("without weights, rpm weighs; then tpm", () => {
    const byRpm = shares(simpleShuffle, candidates({ a: { rpm: 100 }, b: { rpm: 300 } }));
    near(byRpm.a, 0.25);
    near(byRpm.b, 0.75);
    const byTpm = shares(simpleShuffle, candidates({ a: { tpm: 1000 }, b: { tpm: 9000 } }));
    near(byTpm.a, 0.1);
    near(byTpm.b, 0.9);
  });

  test("without weights or limits on every deployment, uniform", () => {
    const s = shares(simpleShuffle, candidates({ a: { rpm: 100 }, b: {}, c: {}, d: {} }));
    for (const id of ["a", "b", "c", "d"]) near(s[id], 0.25);
  });
});

describe("least-busy", () => {
  test("picks the fewest in flight", () => {
    const pool = candidates({ a: {}, b: {}, c: {} }, { a: { inFlight: 3 }, b: { inFlight: 1 }, c: { inFlight: 2 } });
    assert.deepEqual(shares(leastBusy, pool), { b: 1 });
  });

  test("breaks ties at random", () => {
    const s = shares(leastBusy, candidates({ a: {}, b: {}, c: {} }, { c: { inFlight: 1 } }));
    near(s.a, 0.5);
    near(s.b, 0.5);
    assert.equal(s.c, undefined);
  });
});

describe("latency-based-routing", () => {
  test("the fastest wins, and near-equals within the buffer share the load", () => {
    const pool = candidates({ a: {}, b: {}, c: {} }, { a: { latencyMs: 100 }, b: { latencyMs: 108 }, c: { latencyMs: 300 } });
    const s = shares(latencyBased(0.1), pool);
    near(s.a, 0.5);
    near(s.b, 0.5);
    assert.equal(s.c, undefined);
  });

  test("a deployment without recent samples is tried, so it gets measured", () => {
    const pool = candidates({ a: {}, b: {} }, { a: { latencyMs: 5 } });
    assert.deepEqual(shares(latencyBased(), pool), { b: 1 });
  });
});

describe("usage-based-routing", () => {
  test("picks the most rpm/tpm headroom in the last minute", () => {
    const pool = candidates(
      { a: { rpm: 100 }, b: { rpm: 10 }, c: { rpm: 100, tpm: 1000 } },
      {},
      { a: { requests: 50 }, b: { requests: 2 }, c: { requests: 10, tokens: 900 } },
    );
    // Headroom: a 0.5, b 0.8, c min(0.9, 0.1) = 0.1.
    assert.deepEqual(shares(usageBased, pool), { b: 1 });
  });

  test("a deployment without limits has all its headroom; equals share", () => {
    const s = shares(usageBased, candidates({ a: {}, b: {}, c: { rpm: 10 } }, {}, { c: { requests: 1 } }));
    near(s.a, 0.5);
    near(s.b, 0.5);
  });

  test("when every deployment's counts, read a moment ago, are over its limits, the least over is picked", () => {
    const pool = candidates({ a: { rpm: 10 }, b: { rpm: 10 } }, {}, { a: { requests: 30 }, b: { requests: 12 } });
    assert.deepEqual(shares(usageBased, pool), { b: 1 });
  });
});
