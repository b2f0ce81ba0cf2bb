// Orchestrator side of the load generator: writes a plan, runs bench/lib/loadgen.ts as its own process, reads
// the results. Also builds the request of a scenario for a target, and checks one response before any load.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { HttpRequestSpec, Job, JobResult, PlanResult } from "./loadgen-protocol.js";
import { spawnChild } from "./processes.js";
import type { BenchContext, Target } from "./types.js";

let planCounter = 0;

export async function runPlan(ctx: BenchContext, name: string, jobs: Job[]): Promise<JobResult[]> {
  const id = `${name}-${++planCounter}`;
  const planPath = join(ctx.scratchDir, `${id}.plan.json`);
  const resultPath = join(ctx.scratchDir, `${id}.result.json`);
  writeFileSync(planPath, JSON.stringify({ jobs }));
  const loadgen = join(ctx.root, "bench", "lib", "loadgen.ts");
  const child = spawnChild(`loadgen-${id}`, process.execPath, ["--expose-gc", "--import", "tsx", loadgen, planPath, resultPath], {
    cwd: ctx.root,
    logDir: ctx.logDir,
  });
  const code = await child.exited;
  if (code !== 0) throw new Error(`load generator ${id} failed (${code}); see ${child.logPath}`);
  return (JSON.parse(readFileSync(resultPath, "utf8")) as PlanResult).results;
}

export function jsonRequest(target: Target, path: string, body: unknown, label: string): HttpRequestSpec {
  return {
    label,
    url: `${target.baseUrl}${path}`,
    headers: { ...target.headers, "content-type": "application/json" },
    body: JSON.stringify(body),
  };
}

export function multipartRequest(target: Target, path: string, bodyFile: string, boundary: string, label: string): HttpRequestSpec {
  return {
    label,
    url: `${target.baseUrl}${path}`,
    headers: { ...target.headers, "content-type": `multipart/form-data; boundary=${boundary}` },
    bodyFile,
  };
}

export type Verdict = { ok: true; note?: string } | { ok: false; reason: string };

/** Sends the request once and lets `judge` look at the parsed JSON answer. */
export async function preflight(
  spec: HttpRequestSpec,
  judge: (json: unknown) => Verdict | Promise<Verdict>,
  timeoutMs = 60_000,
): Promise<Verdict> {
  const body = spec.bodyFile !== undefined ? readFileSync(spec.bodyFile) : (spec.body ?? "");
  let response: Response;
  try {
    response = await fetch(spec.url, {
      method: "POST",
      headers: spec.headers,
      body,
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    return { ok: false, reason: `request failed: ${error instanceof Error ? error.message : String(error)}` };
  }
  const text = await response.text();
  if (!response.ok) return { ok: false, reason: `HTTP ${response.status}: ${text.slice(0, 300)}` };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, reason: `answer is not JSON: ${text.slice(0, 200)}` };
  }
  return judge(json);
}

/** `data` of an OpenAI list answer, or undefined. */
export function dataOf(json: unknown): unknown[] | undefined {
  if (typeof json !== "object" || json === null) return undefined;
  const data = (json as { data?: unknown }).data;
  return Array.isArray(data) ? data : undefined;
}

/** Rotates the list by `n` places, so that each target takes each position in turn across rounds. */
export function rotate<T>(list: readonly T[], n: number): T[] {
  const k = list.length === 0 ? 0 : n % list.length;
  return [...list.slice(k), ...list.slice(0, k)];
}
