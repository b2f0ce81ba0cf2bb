/**
 * What updating the metrics costs a request, the target being at most 3 µs: the path a request takes through
 * them — its upstream attempt started and ended (the attempt observer), then its end counted (`done`: the
 * request counter, the duration histogram, tokens, spend) — called directly on 1e5 simulated requests,
 * spread over a few routes, model groups, teams and statuses as a real mix would be. Streams (time to first
 * token, tokens per second) and cache lookups are in the mix. Prints wall-clock ns per request, the median of
 * a few rounds: a loaded machine inflates it.
 *
 *   npx tsx bench/metrics-cost.ts [--requests 100000] [--rounds 5]
 */
import type { FastifyRequest } from "fastify";
import type { AttemptStart } from "../src/proxy/pipeline/index.js";
import type { Deployment } from "../src/proxy/router/index.js";
import type { RequestTrace } from "../src/proxy/pipeline/index.js";
import { ProxyMetrics } from "../src/proxy/telemetry/metrics.js";
import { RequestMetrics } from "../src/proxy/telemetry/request-metrics.js";

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  return at === -1 ? fallback : Number(process.argv[at + 1]);
}

const GROUPS = ["embed", "chat", "rerank", "draw"];
const ROUTES = ["/v1/embeddings", "/v1/chat/completions", "/v1/rerank", "/v1/images/generations"];
const TEAMS = ["team-a", "team-b", null];
const STATUSES = [200, 200, 200, 200, 200, 200, 200, 429, 400, 503];

interface Simulated {
  request: FastifyRequest;
  attempt: AttemptStart;
  status: number;
}

/** A request as the metrics read it once it is done: its route, its trace and its principal. */
function simulated(i: number): Simulated {
  const g = i % GROUPS.length;
  const status = STATUSES[i % STATUSES.length]!;
  const answered = status === 200;
  const trace: RequestTrace = {
    routedGroup: GROUPS[g]!,
    ...(answered && { group: GROUPS[g]!, inputTokens: 40 + (i % 7), outputTokens: g === 1 ? 120 : 0, cost: 0.0004 }),
    ...(answered && g === 1 && i % 2 === 0 && { firstChunkMs: 80 }),
    ...(answered && g === 0 && i % 3 === 0 && { cacheHits: "3/4" }),
    ...(status === 429 && { errorCode: i % 20 === 7 ? "budget_exceeded" : "rate_limit_exceeded" }),
  };
  const request = {
    routeOptions: { url: ROUTES[g]! },
    trace,
    principal: { kind: "virtual", key: { record: { team_id: TEAMS[i % TEAMS.length], key_alias: `key-${i % 5}` } } },
  } as unknown as FastifyRequest;
  const deployment = { id: `${GROUPS[g]}-${i % 2}`, group: GROUPS[g]!, variantOf: undefined } as unknown as Deployment;
  return { request, attempt: { deployment } as AttemptStart, status };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function main(): void {
  const requests = option("requests", 100_000);
  const rounds = option("rounds", 5);
  const metrics = new ProxyMetrics({ health: async () => [], inFlight: () => 0 }, { keyLabels: false });
  const recorder = new RequestMetrics(metrics);
  // A few hundred distinct requests, cycled: what varies between requests is their labels, not new objects.
  const mix = Array.from({ length: 600 }, (_unused, i) => simulated(i));
  const perRequest: number[] = [];
  for (let round = 0; round < rounds + 1; round++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < requests; i++) {
      const { request, attempt, status } = mix[i % mix.length]!;
      const watch = recorder.attempts.started(attempt);
      if (status === 503) watch?.failed?.(undefined, 120);
      else if (status === 200) watch?.ended?.(95);
      recorder.done(request, status, 110);
    }
    const ns = Number(process.hrtime.bigint() - start) / requests;
    if (round > 0) perRequest.push(ns); // the first round warms the JIT and makes the label children
  }
  console.log(`metrics update path: ${median(perRequest).toFixed(0)} ns/request (median of ${rounds} rounds of ${requests} requests; rounds: ${perRequest.map((n) => n.toFixed(0)).join(", ")} ns)`);
}

main();
