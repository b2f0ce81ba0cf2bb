// The load generator, run as its own process: `node --import tsx bench/lib/loadgen.ts plan.json result.json`.
// Runs the plan's jobs one after another and writes their results. Every job is bounded in time or count.
import { readFileSync, writeFileSync } from "node:fs";
import { Agent, request } from "node:http";
import autocannon from "autocannon";
import type { AutocannonJob, HttpRequestSpec, JobResult, LatencySummary, Plan, SequentialJob } from "./loadgen-protocol.js";
import { mean, quantile } from "./stats.js";

function bodyOf(spec: HttpRequestSpec): Buffer {
  if (spec.bodyFile !== undefined) return readFileSync(spec.bodyFile);
  return Buffer.from(spec.body ?? "");
}

function summarize(latencies: number[]): LatencySummary {
  return {
    p50: quantile(latencies, 0.5),
    p90: quantile(latencies, 0.9),
    p99: quantile(latencies, 0.99),
    max: latencies.length === 0 ? Number.NaN : latencies.reduce((a, b) => (b > a ? b : a)),
    mean: mean(latencies),
  };
}

function runAutocannon(job: AutocannonJob): Promise<JobResult> {
  const latencies: number[] = [];
  const statusCounts: Record<string, number> = {};
  let ok = 0;
  let non2xx = 0;
  let bytes = 0;
  const started = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: job.url,
        method: "POST",
        headers: job.headers,
        body: bodyOf(job),
        connections: job.connections,
        pipelining: 1,
        duration: job.durationS,
        timeout: job.timeoutS,
      },
      (error, result) => {
        if (error) {
          reject(error instanceof Error ? error : new Error(String(error)));
          return;
        }
        const elapsedS = Number(process.hrtime.bigint() - started) / 1e9;
        resolve({
          label: job.label,
          kind: "autocannon",
          ok,
          non2xx,
          errors: result.errors + result.timeouts,
          statusCounts,
          elapsedS,
          rps: ok / elapsedS,
          bytes,
          latency: summarize(latencies),
          ...(job.keepLatencies ? { latenciesMs: latencies } : {}),
        });
      },
    );
    instance.on("response", (_client, statusCode, resBytes, responseTime) => {
      statusCounts[statusCode] = (statusCounts[statusCode] ?? 0) + 1;
      if (statusCode >= 200 && statusCode < 300) {
        ok++;
        bytes += resBytes;
        latencies.push(responseTime);
      } else {
        non2xx++;
      }
    });
  });
}

async function runSequential(job: SequentialJob): Promise<JobResult> {
  const body = bodyOf(job);
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const url = new URL(job.url);
  const latencies: number[] = [];
  const statusCounts: Record<string, number> = {};
  let ok = 0;
  let non2xx = 0;
  let errors = 0;
  let bytes = 0;
  const started = process.hrtime.bigint();
  for (let i = 0; i < job.count; i++) {
    const t0 = process.hrtime.bigint();
    const outcome = await new Promise<{ status: number; bytes: number } | undefined>((resolve) => {
      const req = request(
        url,
        {
          method: "POST",
          agent,
          headers: { ...job.headers, "content-length": String(body.length) },
          timeout: job.timeoutS * 1000,
        },
        (res) => {
          let received = 0;
          res.on("data", (chunk: Buffer) => (received += chunk.length));
          res.once("end", () => resolve({ status: res.statusCode ?? 0, bytes: received }));
          res.once("error", () => resolve(undefined));
        },
      );
      req.once("timeout", () => req.destroy(new Error("timeout")));
      req.once("error", () => resolve(undefined));
      req.end(body);
    });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (outcome === undefined) {
      errors++;
      continue;
    }
    statusCounts[outcome.status] = (statusCounts[outcome.status] ?? 0) + 1;
    if (outcome.status >= 200 && outcome.status < 300) {
      ok++;
      bytes += outcome.bytes;
      latencies.push(ms);
    } else {
      non2xx++;
    }
  }
  agent.destroy();
  const elapsedS = Number(process.hrtime.bigint() - started) / 1e9;
  return {
    label: job.label,
    kind: "sequential",
    ok,
    non2xx,
    errors,
    statusCounts,
    elapsedS,
    rps: ok / elapsedS,
    bytes,
    latency: summarize(latencies),
    latenciesMs: latencies,
  };
}

async function main(): Promise<void> {
  const [planPath, resultPath] = process.argv.slice(2);
  if (planPath === undefined || resultPath === undefined) throw new Error("usage: loadgen.ts plan.json result.json");
  const plan = JSON.parse(readFileSync(planPath, "utf8")) as Plan;
  const results: JobResult[] = [];
  for (const job of plan.jobs) {
    results.push(job.kind === "autocannon" ? await runAutocannon(job) : await runSequential(job));
  }
  writeFileSync(resultPath, JSON.stringify({ results }));
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exit(1);
});
