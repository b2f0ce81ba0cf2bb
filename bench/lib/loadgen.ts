// The load generator, run as its own process: `node --import tsx bench/lib/loadgen.ts plan.json result.json`.
// Runs the plan's jobs one after another and writes their results. Every job is bounded in time or count.
import { readFileSync, writeFileSync } from "node:fs";
import { Agent, request } from "node:http";
import autocannon from "autocannon";
import type { AutocannonJob, HttpRequestSpec, JobResult, LatencySummary, Plan, SequentialJob, StreamsJob } from "./loadgen-protocol.js";
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
        idReplacement: job.idReplacement === true,
        ...(job.overallRate !== undefined && { overallRate: job.overallRate }),
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

const msSince = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e6;

/**
 * What the openai client does with an embeddings answer it asked base64 for: each base64 string becomes
 * `Buffer.from(b64, "base64")` and a Float32Array over those bytes. The JSON parse that comes first is timed
 * apart: a client pays it for a float answer too (more: the float text is ~4× longer).
 */
function decodeEmbeddings(body: Buffer): { parseMs: number; decodeMs: number } {
  const p0 = process.hrtime.bigint();
  const json = JSON.parse(body.toString("utf8")) as { data?: { embedding?: unknown }[] };
  const parseMs = msSince(p0);
  const d0 = process.hrtime.bigint();
  const vectors: Float32Array[] = [];
  for (const item of json.data ?? []) {
    const embedding = item.embedding;
    if (typeof embedding !== "string") continue; // float arrays: the parse made them already
    const bytes = Buffer.from(embedding, "base64");
    vectors.push(new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / Float32Array.BYTES_PER_ELEMENT));
  }
  const decodeMs = msSince(d0);
  return { parseMs, decodeMs };
}

interface SequentialOutcome {
  status: number;
  bytes: number;
  ttfbMs: number;
  lastByteMs: number;
  body: Buffer | undefined;
}

async function runSequential(job: SequentialJob): Promise<JobResult> {
  const body = bodyOf(job);
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const url = new URL(job.url);
  const keepBody = job.decodeBase64Embeddings === true;
  const latencies: number[] = [];
  const ttfbs: number[] = [];
  const parses: number[] = [];
  const decodes: number[] = [];
  const statusCounts: Record<string, number> = {};
  let ok = 0;
  let non2xx = 0;
  let errors = 0;
  let bytes = 0;
  const started = process.hrtime.bigint();
  for (let i = 0; i < job.count; i++) {
    const t0 = process.hrtime.bigint();
    const outcome = await new Promise<SequentialOutcome | undefined>((resolve) => {
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
          let ttfbMs = Number.NaN;
          const chunks: Buffer[] = [];
          res.on("data", (chunk: Buffer) => {
            if (received === 0) ttfbMs = msSince(t0);
            received += chunk.length;
            if (keepBody) chunks.push(chunk);
          });
          res.once("end", () =>
            resolve({
              status: res.statusCode ?? 0,
              bytes: received,
              ttfbMs,
              lastByteMs: msSince(t0),
              body: keepBody ? Buffer.concat(chunks) : undefined,
            }),
          );
          res.once("error", () => resolve(undefined));
        },
      );
      req.once("timeout", () => req.destroy(new Error("timeout")));
      req.once("error", () => resolve(undefined));
      req.end(body);
    });
    if (outcome === undefined) {
      errors++;
      continue;
    }
    statusCounts[outcome.status] = (statusCounts[outcome.status] ?? 0) + 1;
    if (outcome.status >= 200 && outcome.status < 300) {
      ok++;
      bytes += outcome.bytes;
      ttfbs.push(outcome.ttfbMs);
      if (outcome.body !== undefined) {
        const { parseMs, decodeMs } = decodeEmbeddings(outcome.body);
        parses.push(parseMs);
        decodes.push(decodeMs);
        latencies.push(outcome.lastByteMs + decodeMs);
        // A parsed 43 MB float answer leaves ~100 MB of garbage here: collected now, between requests, its GC
        // does not pause the next request's reading or decoding (runPlan starts this process with --expose-gc).
        gc?.();
      } else {
        latencies.push(outcome.lastByteMs);
      }
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
    ttfbMs: ttfbs,
    ...(keepBody ? { parseMs: parses, decodeMs: decodes } : {}),
  };
}

interface StreamOutcome {
  /** 0 when the request failed (connection error, timeout, a broken-off body). */
  status: number;
  /** Its headers came: it was counted as open. */
  opened: boolean;
  /** Ended with `data: [DONE]`. */
  complete: boolean;
  bytes: number;
  events: number;
  ttftMs: number;
  totalMs: number;
}

/** One stream: every event's arrival noted, the gaps between events pushed to `gaps`. */
function oneStream(url: URL, agent: Agent, job: StreamsJob, body: Buffer, gaps: number[], onOpen: () => void): Promise<StreamOutcome> {
  const t0 = process.hrtime.bigint();
  let opened = false;
  return new Promise((resolve) => {
    const failed = (): void => resolve({ status: 0, opened, complete: false, bytes: 0, events: 0, ttftMs: Number.NaN, totalMs: msSince(t0) });
    const req = request(
      url,
      { method: "POST", agent, headers: { ...job.headers, "content-length": String(body.length) }, timeout: job.timeoutS * 1000 },
      (res) => {
        let bytes = 0;
        let events = 0;
        let ttftMs = Number.NaN;
        let last = 0;
        let pending = "";
        let complete = false;
        opened = true;
        onOpen();
        res.setEncoding("utf8");
        res.on("data", (text: string) => {
          const now = msSince(t0);
          bytes += text.length;
          // Xinference frames with CRLF, xgate with LF; a CR at a read's end meets its LF in the next.
          pending = (pending + text).replace(/\r\n/g, "\n");
          // Events end at a blank line; a read may hold several, or part of one.
          let end = pending.indexOf("\n\n");
          while (end >= 0) {
            const event = pending.slice(0, end);
            pending = pending.slice(end + 2);
            end = pending.indexOf("\n\n");
            if (!event.startsWith("data:")) continue;
            if (events === 0) ttftMs = now;
            else gaps.push(now - last);
            last = now;
            events++;
            if (event === "data: [DONE]") complete = true;
          }
        });
        res.once("end", () => resolve({ status: res.statusCode ?? 0, opened, complete, bytes, events, ttftMs, totalMs: msSince(t0) }));
        res.once("error", failed);
      },
    );
    req.once("timeout", () => req.destroy(new Error("timeout")));
    req.once("error", failed);
    req.end(body);
  });
}

async function runStreams(job: StreamsJob): Promise<JobResult> {
  const body = bodyOf(job);
  const agent = new Agent({ keepAlive: true, maxSockets: job.connections });
  const url = new URL(job.url);
  const gaps: number[] = [];
  const ttfts: number[] = [];
  const totals: number[] = [];
  const statusCounts: Record<string, number> = {};
  let ok = 0;
  let non2xx = 0;
  let errors = 0;
  let bytes = 0;
  let events = 0;
  let open = 0;
  let maxOpen = 0;
  const started = process.hrtime.bigint();
  const deadline = started + BigInt(Math.round(job.durationS * 1e9));
  const connection = async (): Promise<void> => {
    do {
      const outcome = await oneStream(url, agent, job, body, gaps, () => {
        open++;
        if (open > maxOpen) maxOpen = open;
      });
      if (outcome.opened) open--;
      if (outcome.status === 0) {
        errors++;
        continue;
      }
      statusCounts[outcome.status] = (statusCounts[outcome.status] ?? 0) + 1;
      if (outcome.status >= 200 && outcome.status < 300 && outcome.complete) {
        ok++;
        bytes += outcome.bytes;
        events += outcome.events;
        ttfts.push(outcome.ttftMs);
        totals.push(outcome.totalMs);
      } else {
        non2xx++;
      }
    } while (job.once !== true && process.hrtime.bigint() < deadline);
  };
  await Promise.all(Array.from({ length: job.connections }, connection));
  agent.destroy();
  const elapsedS = Number(process.hrtime.bigint() - started) / 1e9;
  return {
    label: job.label,
    kind: "streams",
    ok,
    non2xx,
    errors,
    statusCounts,
    elapsedS,
    rps: ok / elapsedS,
    bytes,
    latency: summarize(totals),
    ttftMs: ttfts,
    gapMs: summarize(gaps),
    events,
    maxOpen,
  };
}

function runJob(job: Plan["jobs"][number]): Promise<JobResult> {
  if (job.kind === "autocannon") return runAutocannon(job);
  if (job.kind === "sequential") return runSequential(job);
  return runStreams(job);
}

async function main(): Promise<void> {
  const [planPath, resultPath] = process.argv.slice(2);
  if (planPath === undefined || resultPath === undefined) throw new Error("usage: loadgen.ts plan.json result.json");
  const plan = JSON.parse(readFileSync(planPath, "utf8")) as Plan;
  const results: JobResult[] = [];
  for (const job of plan.jobs) {
    results.push(await runJob(job));
  }
  writeFileSync(resultPath, JSON.stringify({ results }));
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exit(1);
});
