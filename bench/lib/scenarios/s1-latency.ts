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

/** How far xgate's percentiles may be above the Node floor's, measured in the same run. */
const P50_OVER_FLOOR_MS = 0.1;
const P99_OVER_FLOOR_MS = 0.5;

function overFloorCheck(which: "p50" | "p99", values: Partial<Record<TargetId, number>>, allowedMs: number): Check {
  const x = values.xgate;
  const f = values.floor;
  const description = `latency ${which} within ${allowedMs} ms of the Node floor's at concurrency 1`;
  // NaN: a target without a single 2xx response.
  if (x === undefined || f === undefined || !Number.isFinite(x) || !Number.isFinite(f)) {
    const who = x === undefined || !Number.isFinite(x) ? "xgate" : "the floor";
    return { scenario: "S1", description, measured: `not measured (${who} did not run or completed no request)`, met: null };
  }
  const over = x - f;
  return {
    scenario: "S1",
    description,
    measured: `${x.toFixed(3)} ms vs ${f.toFixed(3)} ms: ${over >= 0 ? "+" : "−"}${Math.abs(over).toFixed(3)} ms`,
    met: over <= allowedMs,
  };
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

  // The targets are set against the floor: what xgate adds on top of one bare Node hop.
  const overFloor = (values: Partial<Record<TargetId, number>>): Partial<Record<TargetId, number>> => {
    const out: Partial<Record<TargetId, number>> = {};
    for (const id of ["xgate", "portkey"] as const) {
      const v = values[id];
      if (v !== undefined && values.floor !== undefined) out[id] = v - values.floor;
    }
    return out;
  };
  const overFloorP50 = overFloor(p50);
  const overFloorP99 = overFloor(p99);

  const ms = (key: string, label: string, values: Partial<Record<TargetId, number>>, chart: boolean): MetricRow => ({
    scenario: "S1",
    key,
    label,
    unit: "ms",
    better: "lower",
    values,
    chart,
    // Differences, not times: no ratio to direct.
    ...(chart ? {} : { noRatio: true }),
  });
  const rows: MetricRow[] = [
    ms("p50", "latency p50", p50, true),
    ms("p99", "latency p99", p99, true),
    ms("added_p50", "added latency p50 (− direct)", addedP50, false),
    ms("added_p99", "added latency p99 (− direct)", addedP99, false),
    ms("over_floor_p50", "p50 over the floor's", overFloorP50, false),
    ms("over_floor_p99", "p99 over the floor's", overFloorP99, false),
  ];
  if (p50.direct !== undefined && p50.floor !== undefined) rows[0]!.ratioTarget = (p50.floor + P50_OVER_FLOOR_MS) / p50.direct;
  if (p99.direct !== undefined && p99.floor !== undefined) rows[1]!.ratioTarget = (p99.floor + P99_OVER_FLOOR_MS) / p99.direct;

  const checks: Check[] = [
    overFloorCheck("p50", p50, P50_OVER_FLOOR_MS),
    overFloorCheck("p99", p99, P99_OVER_FLOOR_MS),
  ];

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
