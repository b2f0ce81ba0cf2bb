// S9: S2's request (one input at concurrency 64) with a virtual key that has an rpm_limit, a tpm_limit and a
// max_budget — all far above what the run reaches, so every request is checked and counted but none refused —
// against the same xgate with the master key. Twice: limits and budgets in this process, and shared through a
// redis-server of the scenario's own (where the router's state is shared too, for the master key as well, so
// each virtual key is judged against the master key on the same xgate). Reports requests/s and CPU per request
// side by side; the target is at most 15 µs of CPU more per request for the virtual key.
import { existsSync } from "node:fs";
import { delimiter, join } from "node:path";
import { cpuMicrosPerRequest } from "../cpu.js";
import { type Child, freePort, spawnChild, waitForLog } from "../processes.js";
import { MASTER_KEY, startXgate, xgateConfig } from "../servers.js";
import type { BenchContext, Check, MetricRow, ScenarioResult, Target } from "../types.js";
import { EMBEDDING_PATH, oneInputBody } from "./s1-latency.js";
import { measureThroughput, type ThroughputRun } from "./throughput.js";

const CONNECTIONS = 64;
/** The virtual key may cost at most this much more CPU per request than the master key. */
const EXTRA_CPU_US = 15;
/** The rounds' fixed rate, as a share of the slowest variant's flat-out requests/s in the warm-up. */
const RATE_SHARE = 0.7;

type Variant = "master" | "key" | "master-redis" | "key-redis";
const LABELS: Record<Variant, string> = {
  master: "master key, in process",
  key: "virtual key, limits in process",
  "master-redis": "master key, Redis-shared state",
  "key-redis": "virtual key, limits in Redis",
};
/** Each virtual key's figure is judged against the master key's on the same xgate. */
const BASELINE: Record<"key" | "key-redis", Variant> = { key: "master", "key-redis": "master-redis" };

/** CPU µs per request of one run. */
function cpuOf(run: ThroughputRun): number {
  return cpuMicrosPerRequest(run.cpuS, run.ok);
}

/** Each round's key figure minus its master key's, the two measured next to each other in that round. */
function roundDifferences(key: readonly ThroughputRun[] | undefined, master: readonly ThroughputRun[] | undefined): number[] {
  if (key === undefined || master === undefined) return [];
  const differences: number[] = [];
  for (let r = 0; r < Math.min(key.length, master.length); r++) {
    const difference = cpuOf(key[r] as ThroughputRun) - cpuOf(master[r] as ThroughputRun);
    if (Number.isFinite(difference)) differences.push(difference);
  }
  return differences;
}

function medianOf(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

function onPath(binary: string): boolean {
  return (process.env.PATH ?? "").split(delimiter).some((dir) => existsSync(join(dir, binary)));
}

/** A key that is checked, counted and charged on every request, and never refused in a bench run. */
async function generateKey(target: Target): Promise<string> {
  const res = await fetch(`${target.baseUrl.replace(/\/v1$/, "")}/key/generate`, {
    method: "POST",
    headers: { authorization: `Bearer ${MASTER_KEY}`, "content-type": "application/json" },
    body: JSON.stringify({ key_alias: "bench", rpm_limit: 100_000_000, tpm_limit: 1_000_000_000, max_budget: 1_000_000 }),
  });
  if (res.status !== 200) throw new Error(`/key/generate answered ${res.status}: ${await res.text()}`);
  return ((await res.json()) as { key: string }).key;
}

function notRun(reason: string): ScenarioResult {
  return { id: "S9", title: "A virtual key with limits and a budget", method: "", rows: [], checks: [], notes: [reason], details: {} };
}

export async function runS9(ctx: BenchContext): Promise<ScenarioResult> {
  if (ctx.xgate === undefined) return notRun("xgate is not among the targets");
  const notes: string[] = [];
  const children: Child[] = [];
  try {
    // Priced, so that every request's cost is computed and settled against the budget.
    const priced = xgateConfig(ctx.emulatorBaseUrl).replace(/(litellm_params: \{[^}]*\})/g, "$1\n    model_info: { input_cost_per_token: 0.0000001 }");
    const local = await startXgate(ctx, ctx.emulatorBaseUrl, ctx.xgate, { name: "xgate-s9", config: priced });
    children.push(local.child);
    const variants: Array<{ variant: Variant; target: Target }> = [
      { variant: "master", target: local },
      { variant: "key", target: { ...local, headers: { authorization: `Bearer ${await generateKey(local)}` } } },
    ];
    if (onPath("redis-server")) {
      const port = await freePort();
      const redis = spawnChild("redis-s9", "redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], {
        cwd: ctx.root,
        logDir: ctx.logDir,
      });
      children.push(redis);
      await waitForLog(redis, "Ready to accept connections", 0);
      const shared = await startXgate(ctx, ctx.emulatorBaseUrl, ctx.xgate, {
        name: "xgate-s9-redis",
        config: `${priced}router_settings: { redis_host: 127.0.0.1, redis_port: ${port} }\n`,
      });
      children.push(shared.child);
      variants.push(
        { variant: "master-redis", target: shared },
        { variant: "key-redis", target: { ...shared, headers: { authorization: `Bearer ${await generateKey(shared)}` } } },
      );
    } else {
      notes.push("redis-server is not installed: Redis-shared limits are not measured.");
    }

    const { s9Rounds, s9DurationS, warmupS } = ctx.durations;
    const runs = new Map<Variant, ThroughputRun[]>();
    const measure = (variant: Variant, target: Target, label: string, durationS: number, overallRate?: number): Promise<ThroughputRun> =>
      measureThroughput(ctx, target, EMBEDDING_PATH, oneInputBody(target), {
        label: `s9-${variant}-${label}`,
        connections: CONNECTIONS,
        durationS,
        ...(overallRate !== undefined && { overallRate }),
      });
    // The warm-up runs flat out; the rounds then send every variant the same requests/s, below what the
    // slowest could serve. CPU per request depends on the rate (fewer requests per event-loop turn cost more
    // each), so only at one rate for all is the difference the key's own work.
    // The warm-up's rate is what each variant serves flat out: the requests/s reported next to S2's.
    const rps = new Map<Variant, number>();
    for (const { variant, target } of variants) {
      const warm = await measure(variant, target, "warmup", warmupS);
      rps.set(variant, warm.ok / warm.elapsedS);
    }
    // A round number of requests/s, so that runs compare; at least 50 should a warm-up have failed.
    const rate = Math.max(50, Math.round((Math.min(...rps.values()) * RATE_SHARE) / 50) * 50);
    for (let r = 0; r < s9Rounds; r++) {
      const order = r % 2 === 0 ? variants : [...variants].reverse();
      for (const { variant, target } of order) runs.set(variant, [...(runs.get(variant) ?? []), await measure(variant, target, String(r), s9DurationS, rate)]);
    }

    const cpu = new Map<Variant, number>();
    for (const [variant, mine] of runs) {
      const ok = mine.reduce((sum, run) => sum + run.ok, 0);
      cpu.set(variant, cpuMicrosPerRequest(mine.reduce((sum, run) => sum + run.cpuS, 0), ok));
      const failed = mine.reduce((sum, run) => sum + run.failed, 0);
      if (failed > 0) notes.push(`${LABELS[variant]}: ${failed} requests failed (see the xgate log): the key must never be refused here.`);
    }
    const rows: MetricRow[] = [];
    for (const variant of runs.keys()) {
      const row = (key: string, label: string, value: number | undefined, unit: "req/s" | "µs", better: "higher" | "lower"): MetricRow => ({
        scenario: "S9",
        key: `${variant}_${key}`,
        label: `${LABELS[variant]}: ${label}`,
        unit,
        better,
        values: value === undefined ? {} : { xgate: value },
        chart: false,
        noRatio: true,
      });
      rows.push(row("rps", `requests/s flat out (${warmupS} s warm-up)`, rps.get(variant), "req/s", "higher"), row("cpu", `server CPU per request at ${rate} requests/s`, cpu.get(variant), "µs", "lower"));
    }
    const checks: Check[] = [];
    for (const variant of ["key", "key-redis"] as const) {
      const differences = roundDifferences(runs.get(variant), runs.get(BASELINE[variant]));
      const description = `${LABELS[variant]}: CPU per request ≤ the master key's on the same xgate + ${EXTRA_CPU_US} µs (median of the rounds' differences)`;
      if (differences.length === 0) {
        checks.push({ scenario: "S9", description, measured: "not measured", met: null });
        continue;
      }
      const median = medianOf(differences);
      const spread = `rounds ${differences.map((d) => `${d >= 0 ? "+" : ""}${d.toFixed(0)}`).join(" ")} µs`;
      checks.push({ scenario: "S9", description, measured: `${median >= 0 ? "+" : ""}${median.toFixed(1)} µs (${spread})`, met: median <= EXTRA_CPU_US });
    }
    return {
      id: "S9",
      title: "S2 with a virtual key (rpm_limit, tpm_limit, max_budget), in process and Redis-shared, against the master key",
      method:
        `S2's request (one input, concurrency ${CONNECTIONS}) on an xgate with a store (SQLite) and priced deployments: with ` +
        "the master key, and with a virtual key whose limits and budget are checked and counted on every request but " +
        `never reached; then on a second xgate whose limits and budgets are shared through a redis-server of its own. ` +
        `${warmupS} s of warm-up each at full speed, then ${s9Rounds} rounds of ${s9DurationS} s in A B C D, D C B A order, every ` +
        `variant sent the same fixed rate (${rate} requests/s: ${RATE_SHARE * 100}% of the slowest variant's warm-up rate, so that ` +
        "CPU per request is compared at one load). CPU from /proc; " +
        "the target is judged on the median, over the rounds, of each round's difference between a key and its master " +
        "key (run next to each other), so that the machine's drift from round to round cancels out.",
      rows,
      checks,
      notes,
      details: { rps: Object.fromEntries(rps), cpu: Object.fromEntries(cpu) },
    };
  } finally {
    await Promise.all(children.map((child) => child.stop(15_000)));
  }
}
