// S2: the S1 request at concurrency 64 — requests/s and p99. wrk when installed (autocannon saturates its own
// core first on this machine), else autocannon. Runs go A B C C B A so that a drift in the machine's speed
// during the scenario weighs on every target alike.
import { jsonRequest, runPlan } from "../load.js";
import type { AutocannonJob } from "../loadgen-protocol.js";
import type { BenchContext, Check, MetricRow, ScenarioResult, Target, TargetId } from "../types.js";
import { runWrk } from "../wrk.js";
import { EMBEDDING_PATH, oneInputBody } from "./s1-latency.js";

const CONNECTIONS = 64;

interface Run {
  id: TargetId;
  ok: number;
  failed: number;
  elapsedS: number;
  p50: number;
  p99: number;
}

async function measure(ctx: BenchContext, target: Target, label: string, durationS: number): Promise<Run> {
  const spec = jsonRequest(target, EMBEDDING_PATH, oneInputBody(target), label);
  if (ctx.s2Tool === "wrk") {
    const r = await runWrk(ctx, spec, { connections: CONNECTIONS, durationS, threads: 1 });
    return {
      id: target.id,
      ok: r.requests - r.non2xx,
      failed: r.non2xx + r.socketErrors,
      elapsedS: r.elapsedS,
      p50: r.latency.p50,
      p99: r.latency.p99,
    };
  }
  const job: AutocannonJob = { kind: "autocannon", ...spec, connections: CONNECTIONS, durationS, timeoutS: 10, keepLatencies: false };
  const [r] = await runPlan(ctx, `s2-${label}`, [job]);
  if (r === undefined) throw new Error("the load generator returned no result");
  return { id: target.id, ok: r.ok, failed: r.non2xx + r.errors, elapsedS: r.elapsedS, p50: r.latency.p50, p99: r.latency.p99 };
}

export async function runS2(ctx: BenchContext, targets: Target[]): Promise<ScenarioResult> {
  const { s2Rounds, s2DurationS, warmupS } = ctx.durations;
  for (const t of targets) await measure(ctx, t, `${t.id}-warmup`, warmupS);
  const runs: Run[] = [];
  for (let r = 0; r < s2Rounds; r++) {
    const order = r % 2 === 0 ? targets : [...targets].reverse();
    for (const t of order) runs.push(await measure(ctx, t, `${t.id}-${r}`, s2DurationS));
  }

  const rps: Partial<Record<TargetId, number>> = {};
  const p50: Partial<Record<TargetId, number>> = {};
  const p99: Partial<Record<TargetId, number>> = {};
  const failures: Record<string, number> = {};
  for (const t of targets) {
    const mine = runs.filter((run) => run.id === t.id);
    const ok = mine.reduce((sum, run) => sum + run.ok, 0);
    const elapsed = mine.reduce((sum, run) => sum + run.elapsedS, 0);
    rps[t.id] = ok / elapsed;
    // Percentiles cannot be pooled from wrk's summaries: the mean of the rounds' own.
    p50[t.id] = mine.reduce((sum, run) => sum + run.p50, 0) / mine.length;
    p99[t.id] = mine.reduce((sum, run) => sum + run.p99, 0) / mine.length;
    const failed = mine.reduce((sum, run) => sum + run.failed, 0);
    if (failed > 0) failures[t.id] = failed;
  }

  const rows: MetricRow[] = [
    { scenario: "S2", key: "rps", label: "requests/s", unit: "req/s", better: "higher", values: rps, chart: true, ratioTarget: 0.5 },
    { scenario: "S2", key: "p50", label: "latency p50", unit: "ms", better: "lower", values: p50, chart: false },
    { scenario: "S2", key: "p99", label: "latency p99", unit: "ms", better: "lower", values: p99, chart: true },
  ];

  const checks: Check[] = [];
  const ratio = rps.xgate !== undefined && rps.direct !== undefined ? rps.xgate / rps.direct : undefined;
  checks.push({
    scenario: "S2",
    description: "requests/s ≥ 50% of direct at concurrency 64",
    measured: ratio === undefined ? "not measured" : `${(ratio * 100).toFixed(1)}%`,
    met: ratio === undefined ? null : ratio >= 0.5,
  });
  const vsPortkey = rps.xgate !== undefined && rps.portkey !== undefined ? rps.xgate / rps.portkey : undefined;
  checks.push({
    scenario: "S2",
    description: "requests/s ≥ 10× Portkey's at concurrency 64",
    measured: vsPortkey === undefined ? "not measured" : `${vsPortkey.toFixed(1)}×`,
    met: vsPortkey === undefined ? null : vsPortkey >= 10,
  });

  const notes: string[] = [];
  if (rps.floor !== undefined && rps.direct !== undefined) {
    notes.push(
      `A bare Node pass-through (the floor) reaches ${((rps.floor / rps.direct) * 100).toFixed(1)}% of direct: ` +
        "what a minimal node:http + undici gateway reaches here.",
    );
  }
  if (ctx.s2Tool === "autocannon") {
    notes.push(
      "wrk is not installed, so autocannon drove S2: it saturates its own core near 15–21k requests/s on this " +
        "machine, which caps direct and flatters the gateways' ratios (apt-get install wrk for the real figure).",
    );
  }
  if (Object.keys(failures).length > 0) notes.push(`non-2xx or failed responses: ${JSON.stringify(failures)}`);

  return {
    id: "S2",
    title: "One-input embedding, concurrency 64",
    method:
      `${ctx.s2Tool === "wrk" ? "wrk -t1 (Lua script for the POST body)" : "autocannon"}, ${CONNECTIONS} connections, ` +
      `${s2Rounds} × ${s2DurationS} s per target in the order A B C C B A… after ${warmupS} s of warm-up each; ` +
      `requests/s over all rounds, p50/p99 the mean of the rounds'.`,
    rows,
    checks,
    notes,
    details: { tool: ctx.s2Tool, runs },
  };
}
