// S7: the embedding cache. xgate started twice with `litellm_settings.cache: true`, once with the local cache and
// once with Redis (a redis-server of the scenario's own), in front of the run's emulator. Batches of 2,048
// inputs (bge-large-en-v1.5, 1,024 dims), float and base64, at 0%, 50% and 100% hits, one request at a time,
// against direct; then a one-input embedding at concurrency 64, a hit against a miss.
import { existsSync, readFileSync } from "node:fs";
import { delimiter, join } from "node:path";
import { jsonRequest, preflight, rotate, runPlan } from "../load.js";
import type { AutocannonJob, JobResult, SequentialJob } from "../loadgen-protocol.js";
import { type Child, freePort, spawnChild, waitForLog } from "../processes.js";
import { startXgate, xgateConfig } from "../servers.js";
import { median } from "../stats.js";
import type { BenchContext, Check, MetricRow, ScenarioResult, Target } from "../types.js";
import { EMBEDDING_PATH } from "./s1-latency.js";

const BATCH = 2048;
const DIMS = 1024;
const CONNECTIONS = 64;
/** xgate's time for a batch at this share of hits may be at most this many times direct's float time. */
const TIME_VS_DIRECT: Partial<Record<Ratio, number>> = { 50: 0.65, 100: 0.3 };

type Store = "memory" | "redis";
type Ratio = 0 | 50 | 100;
type Encoding = "float" | "base64";
const RATIOS: readonly Ratio[] = [0, 50, 100];

interface CachedXgate {
  store: Store;
  target: Target;
}

/** One measured request kind: direct on new inputs, or a store at a share of hits. */
type Unit = { kind: "direct" } | { kind: "xgate"; xgate: CachedXgate; ratio: Ratio };

const unitKey = (unit: Unit): string => (unit.kind === "direct" ? "direct" : `${unit.xgate.store}-${unit.ratio}`);

function batch(tag: string): string[] {
  return Array.from({ length: BATCH }, (_, i) => `${tag} passage ${i}: gateways should add nothing but value to a call.`);
}

function cacheConfig(emulatorBaseUrl: string, store: Store, redisPort: number | undefined): string {
  // Room for every batch the scenario sends, so that no eviction decides a figure.
  const params = store === "memory" ? "{ type: local, max_size_mb: 1024 }" : `{ type: redis, host: 127.0.0.1, port: ${redisPort} }`;
  return `${xgateConfig(emulatorBaseUrl)}litellm_settings:\n  cache: true\n  cache_params: ${params}\n`;
}

function onPath(binary: string): boolean {
  return (process.env.PATH ?? "").split(delimiter).some((dir) => existsSync(join(dir, binary)));
}

async function startRedis(ctx: BenchContext): Promise<{ child: Child; port: number }> {
  const port = await freePort();
  const child = spawnChild("redis-s7", "redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], {
    cwd: ctx.root,
    logDir: ctx.logDir,
  });
  await waitForLog(child, "Ready to accept connections", 0);
  return { child, port };
}

/**
 * How many cache reads and writes failed in a gateway's log (the last count it logged): a Redis slower than the
 * read bound turns hits into misses, and the figures must say so.
 */
function cacheFailures(child: Child): number {
  let failures = 0;
  for (const line of readFileSync(child.logPath, "utf8").split("\n")) {
    if (!line.includes('"msg":"embedding cache: Redis')) continue;
    failures = Math.max(failures, Number((JSON.parse(line) as { failures_total?: number }).failures_total ?? 0));
  }
  return failures;
}

const fmtMs = (v: number): string => `${v.toFixed(v < 10 ? 2 : 1)} ms`;

function notRun(reason: string): ScenarioResult {
  return { id: "S7", title: "The embedding cache", method: "", rows: [], checks: [], notes: [reason], details: {} };
}

export async function runS7(ctx: BenchContext): Promise<ScenarioResult> {
  if (ctx.xgate === undefined) return notRun("xgate is not among the targets");
  const direct = ctx.targets.find((t) => t.id === "direct");
  const notes: string[] = [];
  const children: Child[] = [];
  try {
    const xgates: CachedXgate[] = [];
    const memory = await startXgate(ctx, ctx.emulatorBaseUrl, ctx.xgate, { name: "xgate-s7-memory", config: cacheConfig(ctx.emulatorBaseUrl, "memory", undefined) });
    children.push(memory.child);
    xgates.push({ store: "memory", target: memory });
    if (onPath("redis-server")) {
      const redis = await startRedis(ctx);
      children.push(redis.child);
      const viaRedis = await startXgate(ctx, ctx.emulatorBaseUrl, ctx.xgate, {
        name: "xgate-s7-redis",
        config: cacheConfig(ctx.emulatorBaseUrl, "redis", redis.port),
      });
      children.push(viaRedis.child);
      xgates.push({ store: "redis", target: viaRedis });
    } else {
      notes.push("redis-server is not installed: the Redis store is not measured (apt-get install redis-server).");
    }
    if (direct === undefined) notes.push("direct is not among the targets: the times are not judged against it.");

    const rows: MetricRow[] = [];
    const checks: Check[] = [];
    const details: Record<string, unknown> = {};
    for (const encoding of ["float", "base64"] as const) {
      const measured = await batches(ctx, encoding, direct, xgates, notes);
      details[encoding] = Object.fromEntries(measured);
      const directMs = measured.get("direct");
      for (const { store } of xgates) {
        for (const ratio of RATIOS) {
          const timeMs = measured.get(`${store}-${ratio}`);
          const limit = TIME_VS_DIRECT[ratio];
          rows.push({
            scenario: "S7",
            key: `${encoding}_${store}_${ratio}`,
            label: `2,048 ${encoding}, ${store}, ${ratio}% hits: time per batch${encoding === "base64" ? " incl. decode" : ""} (median)`,
            unit: "ms",
            better: "lower",
            values: { ...(directMs !== undefined && { direct: directMs }), ...(timeMs !== undefined && { xgate: timeMs }) },
            chart: limit !== undefined,
            ...(limit !== undefined && { ratioTarget: limit }),
          });
          if (limit === undefined) continue;
          const description = `2,048 ${encoding}, ${store}, ${ratio}% hits: end to end ≤ ${limit}× direct's float time`;
          checks.push(
            timeMs === undefined || directMs === undefined
              ? { scenario: "S7", description, measured: "not measured", met: null }
              : {
                  scenario: "S7",
                  description,
                  measured: `${fmtMs(timeMs)} vs ${fmtMs(directMs)}: ${(timeMs / directMs).toFixed(2)}×`,
                  met: timeMs / directMs <= limit,
                },
          );
        }
      }
    }

    const throughput = await oneInput(ctx, xgates);
    for (const { store, target } of xgates) {
      const failures = cacheFailures(target.child);
      if (failures > 0) {
        notes.push(
          `${store}: ${failures} cache reads or writes failed (Redis slower than the read bound, see ${target.child.logPath}): ` +
            "those requests went upstream as misses, so the hit figures are worse than the cache's own.",
        );
      }
    }
    details.oneInput = throughput;
    for (const { store } of xgates) {
      const hit = throughput[`${store}-hit`];
      const miss = throughput[`${store}-miss`];
      const row = (key: string, label: string, value: number | undefined, unit: "req/s" | "×"): MetricRow => ({
        scenario: "S7",
        key: `one_${store}_${key}`,
        label: `one input at c=${CONNECTIONS}, ${store}: ${label}`,
        unit,
        better: "higher",
        values: value === undefined ? {} : { xgate: value },
        chart: false,
        noRatio: true,
      });
      rows.push(
        row("hit", "a hit, requests/s", hit, "req/s"),
        row("miss", "a miss, requests/s", miss, "req/s"),
        row("ratio", "hit ÷ miss, requests/s", hit !== undefined && miss !== undefined ? hit / miss : undefined, "×"),
      );
    }

    return {
      id: "S7",
      title: "The embedding cache: 2,048-input batches at 0%, 50% and 100% hits, memory and Redis; one input at c=64",
      method:
        `xgate twice with litellm_settings.cache: true (local, max_size_mb 1024; Redis, a redis-server of its own), one ` +
        `worker each. Batches: bge-large-en-v1.5, one request at a time, 1 warm-up then ${ctx.durations.s7Rounds} rounds with ` +
        "the order rotated; every round sends new inputs, so that 0% misses every input and direct's time is the " +
        "emulator's for inputs it has not seen; 50% first sends every other input of the batch (not timed), 100% a batch " +
        "sent during the warm-up. Medians of the end-to-end time; base64 answers are decoded as the openai client does " +
        `and the decode counts, as in S3. One input: autocannon, ${CONNECTIONS} connections, ${ctx.durations.warmupS} s of ` +
        `warm-up then ${ctx.durations.s7DurationS} s per store and kind; a hit repeats one input, a miss gives each ` +
        "request an input of its own.",
      rows,
      checks,
      notes,
      details,
    };
  } finally {
    await Promise.all(children.map((child) => child.stop(15_000)));
  }
}

/** Median end-to-end ms of each unit's batches in one encoding. */
async function batches(
  ctx: BenchContext,
  encoding: Encoding,
  direct: Target | undefined,
  xgates: CachedXgate[],
  notes: string[],
): Promise<Map<string, number>> {
  const body = (target: Target, tag: string): unknown => ({ model: target.models.embedLarge, input: batch(tag), encoding_format: encoding });
  const primeBody = (target: Target, tag: string): unknown => ({
    model: target.models.embedLarge,
    input: batch(tag).filter((_, i) => i % 2 === 0),
    encoding_format: encoding,
  });
  for (const { target } of xgates) {
    const verdict = await preflight(jsonRequest(target, EMBEDDING_PATH, { model: target.models.embedLarge, input: "preflight", encoding_format: encoding }, "preflight"), (json) => {
      const first = (json as { data?: { embedding?: unknown }[] }).data?.[0]?.embedding;
      const ok = encoding === "float" ? Array.isArray(first) && first.length === DIMS : typeof first === "string" && Buffer.from(first, "base64").length === DIMS * 4;
      return ok ? { ok: true } : { ok: false, reason: `not ${DIMS} dims as ${encoding}` };
    });
    if (!verdict.ok) throw new Error(`${target.child.name} fails the preflight: ${verdict.reason}`);
  }

  const job = (target: Target, payload: unknown, label: string, decode: boolean): SequentialJob => ({
    kind: "sequential",
    ...jsonRequest(target, EMBEDDING_PATH, payload, label),
    count: 1,
    timeoutS: 300,
    ...(decode ? { decodeBase64Embeddings: true } : {}),
  });
  const units: Unit[] = [
    ...(direct === undefined ? [] : [{ kind: "direct" } as const]),
    ...xgates.flatMap((xgate) => RATIOS.map((ratio) => ({ kind: "xgate", xgate, ratio }) as const)),
  ];
  const jobsOf = (unit: Unit, round: string): SequentialJob[] => {
    const tag = `${encoding} ${unitKey(unit)} round ${round}`;
    if (unit.kind === "direct") return [job(direct as Target, body(direct as Target, tag), `direct|${round}`, false)];
    const { target } = unit.xgate;
    const label = `${unitKey(unit)}|${round}`;
    const decode = encoding === "base64";
    if (unit.ratio === 0) return [job(target, body(target, tag), label, decode)];
    if (unit.ratio === 50) return [job(target, primeBody(target, tag), "prime", false), job(target, body(target, tag), label, decode)];
    return [job(target, body(target, `${encoding} ${unit.xgate.store} warm`), label, decode)];
  };
  // The warm batch of each store is fetched once before the 100% rounds; each unit then has one warm-up.
  const jobs: SequentialJob[] = xgates.map(({ target, store }) => job(target, body(target, `${encoding} ${store} warm`), "prime", false));
  for (const unit of units) jobs.push(...jobsOf(unit, "warmup"));
  for (let r = 0; r < ctx.durations.s7Rounds; r++) for (const unit of rotate(units, r)) jobs.push(...jobsOf(unit, String(r)));
  const results = await runPlan(ctx, `s7-${encoding}`, jobs);
  return medianTimes(results, notes, encoding);
}

function medianTimes(results: JobResult[], notes: string[], encoding: Encoding): Map<string, number> {
  const times = new Map<string, number[]>();
  const failures: Record<string, number> = {};
  for (const result of results) {
    if (result.non2xx + result.errors > 0) failures[result.label] = (failures[result.label] ?? 0) + result.non2xx + result.errors;
    const [key, round] = result.label.split("|") as [string, string | undefined];
    if (round === undefined || round === "warmup") continue;
    times.set(key, [...(times.get(key) ?? []), ...(result.latenciesMs ?? [])]);
  }
  if (Object.keys(failures).length > 0) notes.push(`2,048 ${encoding}: failed requests: ${JSON.stringify(failures)}`);
  const medians = new Map<string, number>();
  for (const [key, values] of times) if (values.length > 0) medians.set(key, median(values));
  return medians;
}

/** Requests/s of a one-input hit and a one-input miss, per store. */
async function oneInput(ctx: BenchContext, xgates: CachedXgate[]): Promise<Record<string, number>> {
  const job = (target: Target, input: string, label: string, durationS: number, idReplacement: boolean): AutocannonJob => ({
    kind: "autocannon",
    ...jsonRequest(target, EMBEDDING_PATH, { model: target.models.embedSmall, input, encoding_format: "float" }, label),
    connections: CONNECTIONS,
    durationS,
    timeoutS: 10,
    keepLatencies: false,
    idReplacement,
  });
  const jobs: AutocannonJob[] = [];
  for (const { target, store } of xgates) {
    const hit = `The quick brown fox jumps over the ${store} cache`;
    jobs.push(
      job(target, hit, `${store}-hit|warmup`, ctx.durations.warmupS, false),
      job(target, hit, `${store}-hit`, ctx.durations.s7DurationS, false),
      job(target, `A miss [<id>] through the ${store} cache`, `${store}-miss|warmup`, ctx.durations.warmupS, true),
      job(target, `A miss [<id>] through the ${store} cache`, `${store}-miss`, ctx.durations.s7DurationS, true),
    );
  }
  const results = await runPlan(ctx, "s7-one-input", jobs);
  const rps: Record<string, number> = {};
  for (const result of results) if (!result.label.endsWith("|warmup")) rps[result.label] = result.rps;
  return rps;
}
