// S2: the S1 request at concurrency 64 — requests/s, p99, and each server's CPU per request. wrk when installed
// (autocannon saturates its own core first on this machine), else autocannon. Runs go A B C C B A so that a
// drift in the machine's speed during the scenario weighs on every target alike.
import { cpuMicrosPerRequest } from "../cpu.js";
import type { BenchContext, Check, MetricRow, ScenarioResult, Target, TargetId } from "../types.js";
import { EMBEDDING_PATH, oneInputBody } from "./s1-latency.js";
import { measureThroughput } from "./throughput.js";
import type { ThroughputRun } from "./throughput.js";

const CONNECTIONS = 64;
/** xgate's CPU per request may be at most this many times the Node floor's. */
const CPU_VS_FLOOR = 1.25;
/** xgate's requests/s must be at least this many times Portkey's. */
const VS_PORTKEY = 10;

type Run = ThroughputRun & { id: TargetId };

async function measure(ctx: BenchContext, target: Target, label: string, durationS: number): Promise<Run> {
  const options = { label: `s2-${label}`, connections: CONNECTIONS, durationS };
  const run = await measureThroughput(ctx, target, EMBEDDING_PATH, oneInputBody(target), options);
  return { id: target.id, ...run };
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
  const cpu: Partial<Record<TargetId, number>> = {};
  const p50: Partial<Record<TargetId, number>> = {};
  const p99: Partial<Record<TargetId, number>> = {};
  const failures: Record<string, number> = {};
  for (const t of targets) {
    const mine = runs.filter((run) => run.id === t.id);
    const ok = mine.reduce((sum, run) => sum + run.ok, 0);
    const elapsed = mine.reduce((sum, run) => sum + run.elapsedS, 0);
    rps[t.id] = ok / elapsed;
    cpu[t.id] = cpuMicrosPerRequest(mine.reduce((sum, run) => sum + run.cpuS, 0), ok);
    // Percentiles cannot be pooled from wrk's summaries: the mean of the rounds' own.
    p50[t.id] = mine.reduce((sum, run) => sum + run.p50, 0) / mine.length;
    p99[t.id] = mine.reduce((sum, run) => sum + run.p99, 0) / mine.length;
    const failed = mine.reduce((sum, run) => sum + run.failed, 0);
    if (failed > 0) failures[t.id] = failed;
  }

  const rows: MetricRow[] = [
    { scenario: "S2", key: "rps", label: "requests/s", unit: "req/s", better: "higher", values: rps, chart: true },
    { scenario: "S2", key: "cpu_per_request", label: "server CPU per request", unit: "µs", better: "lower", values: cpu, chart: true },
    { scenario: "S2", key: "p50", label: "latency p50", unit: "ms", better: "lower", values: p50, chart: false },
    { scenario: "S2", key: "p99", label: "latency p99", unit: "ms", better: "lower", values: p99, chart: true },
  ];
  if (cpu.direct !== undefined && cpu.floor !== undefined) rows[1]!.ratioTarget = (CPU_VS_FLOOR * cpu.floor) / cpu.direct;

  // A target that did not run, or completed no request (its CPU per request is NaN), gives nothing to judge.
  const known = (v: number | undefined): v is number => v !== undefined && Number.isFinite(v) && v > 0;
  const unmeasured = (who: string): string => `not measured (${who} did not run or completed no request)`;
  const checks: Check[] = [];
  const xCpu = cpu.xgate;
  const fCpu = cpu.floor;
  const cpuDescription = `CPU per request ≤ ${CPU_VS_FLOOR}× the Node floor's at concurrency 64`;
  checks.push(
    known(xCpu) && known(fCpu)
      ? {
          scenario: "S2",
          description: cpuDescription,
          measured: `${xCpu.toFixed(0)} µs vs ${fCpu.toFixed(0)} µs: ${(xCpu / fCpu).toFixed(2)}×`,
          met: xCpu / fCpu <= CPU_VS_FLOOR,
        }
      : { scenario: "S2", description: cpuDescription, measured: unmeasured(known(xCpu) ? "the floor" : "xgate"), met: null },
  );
  const xRps = rps.xgate;
  const pRps = rps.portkey;
  const portkeyDescription = `requests/s ≥ ${VS_PORTKEY}× Portkey's at concurrency 64`;
  checks.push(
    known(xRps) && known(pRps)
      ? {
          scenario: "S2",
          description: portkeyDescription,
          measured: `${xRps.toFixed(0)} vs ${pRps.toFixed(0)} req/s: ${(xRps / pRps).toFixed(1)}×`,
          met: xRps / pRps >= VS_PORTKEY,
        }
      : { scenario: "S2", description: portkeyDescription, measured: unmeasured(known(xRps) ? "Portkey" : "xgate"), met: null },
  );

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
      `requests/s over all rounds, p50/p99 the mean of the rounds'; CPU per request = the server process's ` +
      "utime + stime (/proc/<pid>/stat) over each run ÷ its 2xx responses (direct: the emulator's).",
    rows,
    checks,
    notes,
    details: { tool: ctx.s2Tool, runs },
  };
}
