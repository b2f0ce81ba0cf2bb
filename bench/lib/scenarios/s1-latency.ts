// S1: one-input embedding at concurrency 1. Short rounds alternate the targets (each takes each position in
// turn), every response's own time is kept, and the percentiles are taken over all rounds pooled.
import { jsonRequest, rotate, runPlan } from "../load.js";
import type { AutocannonJob } from "../loadgen-protocol.js";
import { median, quantile, round } from "../stats.js";
import { GATEWAY_IDS } from "../types.js";
import type { BenchContext, Check, MetricRow, ScenarioResult, Target, TargetId } from "../types.js";

export const EMBEDDING_PATH = "/embeddings";
export const ONE_INPUT = "The quick brown fox jumps over the lazy dog";

export function oneInputBody(target: Target): unknown {
  return { model: target.models.embedSmall, input: ONE_INPUT, encoding_format: "float" };
}

export async function runS1(ctx: BenchContext, targets: Target[]): Promise<ScenarioResult> {
  const { s1Rounds, s1RoundS, warmupS } = ctx.durations;
  const job = (target: Target, label: string, durationS: number, keepLatencies: boolean): AutocannonJob => ({
    kind: "autocannon",
    ...jsonRequest(target, EMBEDDING_PATH, oneInputBody(target), label),
    connections: 1,
    durationS,
    timeoutS: 10,
    keepLatencies,
  });
  const jobs: AutocannonJob[] = targets.map((t) => job(t, `${t.id}|warmup`, warmupS, false));
  for (let r = 0; r < s1Rounds; r++) {
    for (const t of rotate(targets, r)) jobs.push(job(t, `${t.id}|${r}`, s1RoundS, true));
  }
  const results = await runPlan(ctx, "s1", jobs);

  const pooled = new Map<TargetId, number[]>();
  const roundP50 = new Map<TargetId, number[]>();
  const failures: Record<string, number> = {};
  for (const result of results) {
    const [id, roundLabel] = result.label.split("|") as [TargetId, string];
    if (result.non2xx + result.errors > 0) failures[result.label] = result.non2xx + result.errors;
    if (roundLabel === "warmup") continue;
    pooled.set(id, [...(pooled.get(id) ?? []), ...(result.latenciesMs ?? [])]);
    roundP50.set(id, [...(roundP50.get(id) ?? []), result.latency.p50]);
  }

  const p50: Partial<Record<TargetId, number>> = {};
  const p99: Partial<Record<TargetId, number>> = {};
  const samples: Partial<Record<TargetId, number>> = {};
  for (const [id, latencies] of pooled) {
    p50[id] = quantile(latencies, 0.5);
    p99[id] = quantile(latencies, 0.99);
    samples[id] = latencies.length;
  }
  const added = (values: Partial<Record<TargetId, number>>): Partial<Record<TargetId, number>> => {
    const out: Partial<Record<TargetId, number>> = {};
    for (const id of GATEWAY_IDS) {
      const v = values[id];
      if (v !== undefined && values.direct !== undefined) out[id] = v - values.direct;
    }
    return out;
  };
  const addedP50 = added(p50);
  const addedP99 = added(p99);

  // Added p50 per round (the target's round p50 minus direct's in the same round): how steady the figure is.
  const directRounds = roundP50.get("direct") ?? [];
  const addedP50PerRound: Record<string, (number | null)[]> = {};
  for (const id of GATEWAY_IDS) {
    const rounds = roundP50.get(id);
    if (rounds !== undefined && directRounds.length === rounds.length) {
      addedP50PerRound[id] = rounds.map((v, i) => round(v - (directRounds[i] as number), 4));
    }
  }

  const rows: MetricRow[] = [
    { scenario: "S1", key: "p50", label: "latency p50", unit: "ms", better: "lower", values: p50, chart: true },
    { scenario: "S1", key: "p99", label: "latency p99", unit: "ms", better: "lower", values: p99, chart: true },
    { scenario: "S1", key: "added_p50", label: "added latency p50", unit: "ms", better: "lower", values: addedP50, chart: false },
    { scenario: "S1", key: "added_p99", label: "added latency p99", unit: "ms", better: "lower", values: addedP99, chart: false },
  ];
  if (p50.direct !== undefined) rows[0]!.ratioTarget = (p50.direct + 0.3) / p50.direct;
  if (p99.direct !== undefined) rows[1]!.ratioTarget = (p99.direct + 1.5) / p99.direct;

  const checks: Check[] = [];
  const x50 = addedP50.xgate;
  const x99 = addedP99.xgate;
  checks.push({
    scenario: "S1",
    description: "added latency p50 ≤ 0.3 ms at concurrency 1",
    measured: x50 === undefined ? "not measured" : `${x50.toFixed(3)} ms`,
    met: x50 === undefined ? null : x50 <= 0.3,
  });
  checks.push({
    scenario: "S1",
    description: "added latency p99 ≤ 1.5 ms at concurrency 1",
    measured: x99 === undefined ? "not measured" : `${x99.toFixed(3)} ms`,
    met: x99 === undefined ? null : x99 <= 1.5,
  });

  const notes: string[] = [];
  if (Object.keys(failures).length > 0) notes.push(`non-2xx or failed responses: ${JSON.stringify(failures)}`);
  if (addedP50.floor !== undefined && addedP99.floor !== undefined) {
    notes.push(
      `A bare Node pass-through (the floor) adds ${addedP50.floor.toFixed(3)} ms at p50 and ${addedP99.floor.toFixed(3)} ms ` +
        "at p99: what one node:http + undici hop costs on this machine before a gateway does anything.",
    );
  }
  const spread = addedP50PerRound.xgate?.filter((v): v is number => v !== null);
  if (spread !== undefined && spread.length > 0) {
    notes.push(
      `xgate's added p50 per round ranged ${Math.min(...spread).toFixed(3)}–${Math.max(...spread).toFixed(3)} ms ` +
        `(median ${median(spread).toFixed(3)} ms).`,
    );
  }

  return {
    id: "S1",
    title: "One-input embedding, concurrency 1",
    method:
      `autocannon, 1 connection, ${s1Rounds} rounds × ${s1RoundS} s per target with the order rotated each round ` +
      `(after ${warmupS} s of warm-up each); percentiles of every response's own time (autocannon's 'response' event), pooled.`,
    rows,
    checks,
    notes,
    details: { samples, addedP50PerRound, roundP50: Object.fromEntries(roundP50) },
  };
}
