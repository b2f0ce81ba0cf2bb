// S6: does xgate use several cores? xgate with --num_workers 2 against 1 worker, on the one-input embedding at
// concurrency 256, in front of an emulator of its own that takes 20 ms per request: with that many requests in
// flight the upstream can serve far more than one xgate process can pass on, so xgate's CPU sets the pace. Direct
// runs too, to show the upstream's own capacity. Runs go A B C C B A, as in S2.
import { cpus } from "node:os";
import { cpuMicrosPerRequest } from "../cpu.js";
import { dataOf, jsonRequest, preflight } from "../load.js";
import type { Child } from "../processes.js";
import { directTarget, startEmulator, startXgate } from "../servers.js";
import type { BenchContext, Check, MetricRow, ScenarioResult, Target, Unit } from "../types.js";
import { EMBEDDING_PATH, oneInputBody } from "./s1-latency.js";
import { measureThroughput } from "./throughput.js";
import type { ThroughputRun } from "./throughput.js";

const CONNECTIONS = 256;
const COMPUTE_DELAY_MS = 20;
/** 2 workers must serve at least this many times what 1 worker serves. */
const WORKERS_RATIO = 1.6;

type ConfigKey = "direct" | "1 worker" | "2 workers";

interface Config {
  key: ConfigKey;
  target: Target;
}

interface Run extends ThroughputRun {
  key: ConfigKey;
}

interface Totals {
  rps: number;
  /** µs of the config's server processes (direct: the emulator) per 2xx response. */
  cpuUs: number;
  /** µs of the emulator per 2xx response, for the gateway configs. */
  upstreamCpuUs: number | undefined;
  p99: number;
  machineBusyCores: number;
  failed: number;
}

function totals(runs: Run[]): Totals {
  const ok = runs.reduce((sum, r) => sum + r.ok, 0);
  const elapsed = runs.reduce((sum, r) => sum + r.elapsedS, 0);
  const upstream = runs.every((r) => r.upstreamCpuS !== undefined) ? runs.reduce((sum, r) => sum + (r.upstreamCpuS ?? 0), 0) : undefined;
  return {
    rps: ok / elapsed,
    cpuUs: cpuMicrosPerRequest(runs.reduce((sum, r) => sum + r.cpuS, 0), ok),
    upstreamCpuUs: upstream === undefined ? undefined : cpuMicrosPerRequest(upstream, ok),
    p99: runs.reduce((sum, r) => sum + r.p99, 0) / runs.length,
    machineBusyCores: runs.reduce((sum, r) => sum + r.machineBusyCores * r.elapsedS, 0) / elapsed,
    failed: runs.reduce((sum, r) => sum + r.failed, 0),
  };
}

function notRun(ctx: BenchContext, reason: string): ScenarioResult {
  return {
    id: "S6",
    title: "Several cores: xgate with 2 workers against 1",
    method: "",
    rows: [],
    checks: [
      { scenario: "S6", description: `2 workers serve ≥ ${WORKERS_RATIO}× the requests/s of 1 worker`, measured: `not measured (${reason})`, met: null },
    ],
    notes: [reason],
    details: { tool: ctx.s2Tool },
  };
}

export async function runS6(ctx: BenchContext): Promise<ScenarioResult> {
  if (ctx.xgate === undefined) return notRun(ctx, "xgate is not among the targets");
  const { s6Rounds, s6DurationS, warmupS } = ctx.durations;
  const notes: string[] = [];
  const children: Child[] = [];
  try {
    const emulator = await startEmulator(ctx, { name: "emulator-s6", computeDelayMs: COMPUTE_DELAY_MS });
    children.push(emulator.child);
    const one = await startXgate(ctx, emulator.baseUrl, ctx.xgate, { name: "xgate-s6-1w", workers: 1 });
    children.push(one.child);
    const two = await startXgate(ctx, emulator.baseUrl, ctx.xgate, { name: "xgate-s6-2w", workers: 2 });
    children.push(two.child);
    const configs: Config[] = [
      { key: "direct", target: directTarget(emulator) },
      { key: "1 worker", target: one },
      { key: "2 workers", target: two },
    ];
    for (const c of configs) {
      const verdict = await preflight(jsonRequest(c.target, EMBEDDING_PATH, oneInputBody(c.target), "preflight"), (json) => {
        const first = (dataOf(json)?.[0] as { embedding?: unknown } | undefined)?.embedding;
        return Array.isArray(first) && first.length === 768 ? { ok: true } : { ok: false, reason: "expected 768 floats" };
      });
      if (!verdict.ok) return notRun(ctx, `${c.key} failed the one-input embedding: ${verdict.reason}`);
    }

    const measure = (c: Config, label: string, durationS: number): Promise<ThroughputRun> =>
      measureThroughput(ctx, c.target, EMBEDDING_PATH, oneInputBody(c.target), {
        label: `s6-${c.key.replace(" ", "-")}-${label}`,
        connections: CONNECTIONS,
        durationS,
        upstreamPid: emulator.child.pid,
      });
    for (const c of configs) await measure(c, "warmup", warmupS);
    const runs: Run[] = [];
    for (let r = 0; r < s6Rounds; r++) {
      const order = r % 2 === 0 ? configs : [...configs].reverse();
      for (const c of order) runs.push({ key: c.key, ...(await measure(c, String(r), s6DurationS)) });
    }
    const direct = totals(runs.filter((r) => r.key === "direct"));
    const w1 = totals(runs.filter((r) => r.key === "1 worker"));
    const w2 = totals(runs.filter((r) => r.key === "2 workers"));
    const speedup = w2.rps / w1.rps;

    const row = (key: string, label: string, unit: Unit, better: MetricRow["better"], values: MetricRow["values"]): MetricRow => ({
      scenario: "S6",
      key,
      label,
      unit,
      better,
      values,
      chart: unit === "req/s",
    });
    const rows: MetricRow[] = [
      row("rps_1w", "1 worker: requests/s", "req/s", "higher", { direct: direct.rps, xgate: w1.rps }),
      {
        ...row("rps_2w", "2 workers: requests/s", "req/s", "higher", { direct: direct.rps, xgate: w2.rps }),
        ...(w1.rps > 0 && direct.rps > 0 ? { ratioTarget: (WORKERS_RATIO * w1.rps) / direct.rps } : {}),
      },
      { ...row("speedup", "2 workers ÷ 1 worker, requests/s", "×", "higher", { xgate: speedup }), noRatio: true },
      row("cpu_1w", "1 worker: server CPU per request", "µs", "lower", { direct: direct.cpuUs, xgate: w1.cpuUs }),
      row("cpu_2w", "2 workers: server CPU per request", "µs", "lower", { direct: direct.cpuUs, xgate: w2.cpuUs }),
      row("p99_1w", "1 worker: latency p99", "ms", "lower", { direct: direct.p99, xgate: w1.p99 }),
      row("p99_2w", "2 workers: latency p99", "ms", "lower", { direct: direct.p99, xgate: w2.p99 }),
    ];
    const description = `2 workers serve ≥ ${WORKERS_RATIO}× the requests/s of 1 worker (upstream not the bottleneck)`;
    const measured = `${w2.rps.toFixed(0)} vs ${w1.rps.toFixed(0)} req/s: ${speedup.toFixed(2)}×`;
    const checks: Check[] = [
      w1.rps > 0 && w2.rps > 0
        ? { scenario: "S6", description, measured, met: speedup >= WORKERS_RATIO }
        : { scenario: "S6", description, measured: `not measured (${w1.rps > 0 ? "2 workers" : "1 worker"} completed no request)`, met: null },
    ];

    const ceiling = (CONNECTIONS / COMPUTE_DELAY_MS) * 1000;
    notes.push(
      `The upstream alone (direct) served ${direct.rps.toFixed(0)} req/s at this concurrency (at most ${ceiling.toFixed(0)} with ` +
        `${COMPUTE_DELAY_MS} ms per request), ${(direct.rps / w2.rps).toFixed(1)}× what xgate with 2 workers passed on.`,
    );
    const cores = (t: Totals): string => t.machineBusyCores.toFixed(2);
    const upstreamCores = (t: Totals): string => (t.upstreamCpuUs === undefined ? "?" : ((t.upstreamCpuUs * t.rps) / 1e6).toFixed(2));
    notes.push(
      `The machine's cores were busy ${cores(direct)} / ${cores(w1)} / ${cores(w2)} on average during the direct / 1 worker / ` +
        `2 workers runs; of that the emulator took ${upstreamCores(w1)} (1 worker) and ${upstreamCores(w2)} (2 workers), and ` +
        `${ctx.s2Tool} its share. On this ${cpus().length}-core machine the emulator and the load ` +
        "generator run beside xgate's workers, so 2 workers can only use what those leave: the figure is a floor for " +
        "what 2 workers give on a machine where they have 2 cores to themselves.",
    );
    const failed = { direct: direct.failed, "1 worker": w1.failed, "2 workers": w2.failed };
    if (Object.values(failed).some((n) => n > 0)) notes.push(`non-2xx or failed responses: ${JSON.stringify(failed)}`);

    return {
      id: "S6",
      title: `Several cores: xgate with 2 workers against 1, upstream taking ${COMPUTE_DELAY_MS} ms, concurrency ${CONNECTIONS}`,
      method:
        `a second emulator with --compute-delay-ms ${COMPUTE_DELAY_MS}; xgate started twice on it, --num_workers 1 and 2; the ` +
        `one-input embedding through ${ctx.s2Tool === "wrk" ? "wrk -t1" : "autocannon"}, ${CONNECTIONS} connections, ` +
        `${s6Rounds} × ${s6DurationS} s per configuration in the order A B C C B A… after ${warmupS} s of warm-up each; ` +
        "requests/s over all rounds; CPU per request from /proc/<pid>/stat of the process tree (the primary and its workers).",
      rows,
      checks,
      notes,
      details: { tool: ctx.s2Tool, computeDelayMs: COMPUTE_DELAY_MS, connections: CONNECTIONS, runs, totals: { direct, w1, w2 } },
    };
  } finally {
    await Promise.all(children.map((child) => child.stop(15_000)));
  }
}
