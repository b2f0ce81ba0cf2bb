// S4 (b64_json image generation, 1024×1024, concurrency 16) and S5 (image edits with 10 MB uploads,
// concurrency 16): requests/s per target and each gateway's peak RSS while it alone is under load.
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import sharp from "sharp";
import { dataOf, jsonRequest, multipartRequest, preflight, runPlan } from "../load.js";
import type { Verdict } from "../load.js";
import type { AutocannonJob, HttpRequestSpec, JobResult } from "../loadgen-protocol.js";
import { withRss } from "../memory.js";
import type { RssFigures } from "../memory.js";
import type { BenchContext, Check, MetricRow, ScenarioId, ScenarioResult, Target, TargetId } from "../types.js";

const CONNECTIONS = 16;
const SIZE = 1024;
const PROMPT = "a lighthouse on a cliff at dusk, oil painting";

async function judgeImage(json: unknown): Promise<Verdict> {
  const first = dataOf(json)?.[0] as { b64_json?: unknown } | undefined;
  if (typeof first?.b64_json !== "string") return { ok: false, reason: "no data[0].b64_json in the answer" };
  try {
    const meta = await sharp(Buffer.from(first.b64_json, "base64")).metadata();
    if (meta.width !== SIZE || meta.height !== SIZE) {
      return { ok: false, reason: `image is ${meta.width}×${meta.height}, expected ${SIZE}×${SIZE}` };
    }
  } catch {
    return { ok: false, reason: "b64_json does not decode to an image" };
  }
  return { ok: true };
}

/** Square PNG of seeded noise (noise does not compress), so the upload is a real, decodable ~10 MB image. */
export async function editFixture(scratchDir: string): Promise<{ path: string; bytes: number; side: number }> {
  const side = 1778; // ≈ 10.0 MB as PNG (noise does not compress; PNG adds a little to the 9.5 MB of pixels)
  const path = join(scratchDir, `noise-${side}.png`);
  if (!existsSync(path)) {
    const pixels = Buffer.allocUnsafe(side * side * 3);
    let state = 2463534242;
    for (let i = 0; i < pixels.length; i++) {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      pixels[i] = state & 255;
    }
    await sharp(pixels, { raw: { width: side, height: side, channels: 3 } }).png({ compressionLevel: 1 }).toFile(path);
  }
  return { path, bytes: statSync(path).size, side };
}

const BOUNDARY = `----xgate-bench-${randomBytes(8).toString("hex")}`;

function multipartBody(fields: Record<string, string>, file: { field: string; filename: string; type: string; data: Buffer }): Buffer {
  const parts: Buffer[] = [];
  for (const [name, value] of Object.entries(fields)) {
    parts.push(Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`));
  }
  parts.push(
    Buffer.from(
      `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${file.field}"; filename="${file.filename}"\r\n` +
        `Content-Type: ${file.type}\r\n\r\n`,
    ),
  );
  parts.push(file.data, Buffer.from(`\r\n--${BOUNDARY}--\r\n`));
  return Buffer.concat(parts);
}

interface Measured {
  run: JobResult;
  rss: Partial<Record<TargetId, RssFigures>>;
}

async function loadEach(
  ctx: BenchContext,
  scenario: ScenarioId,
  targets: Target[],
  request: (t: Target) => HttpRequestSpec,
  durationS: number,
): Promise<Map<TargetId, Measured>> {
  const measured = new Map<TargetId, Measured>();
  for (const t of targets) {
    const job = (label: string, seconds: number): AutocannonJob => ({
      kind: "autocannon",
      ...request(t),
      label,
      connections: CONNECTIONS,
      durationS: seconds,
      timeoutS: 60,
      keepLatencies: false,
    });
    const { value, rss } = await withRss([t], () =>
      runPlan(ctx, `${scenario.toLowerCase()}-${t.id}`, [job("warmup", ctx.durations.warmupS), job("measure", durationS)]),
    );
    const run = value[1];
    if (run === undefined) throw new Error("the load generator returned no result");
    measured.set(t.id, { run, rss });
  }
  return measured;
}

function resultOf(
  id: ScenarioId,
  title: string,
  method: string,
  measured: Map<TargetId, Measured>,
  notes: string[],
  target: { rpsVsDirect: number; peakRssMB?: number },
): ScenarioResult {
  const limitMB = target.peakRssMB;
  const rps: Partial<Record<TargetId, number>> = {};
  const p99: Partial<Record<TargetId, number>> = {};
  const peak: Partial<Record<TargetId, number>> = {};
  const failures: Record<string, Record<string, number>> = {};
  for (const [tid, { run, rss }] of measured) {
    rps[tid] = run.rps;
    p99[tid] = run.latency.p99;
    const figures = rss[tid];
    if (tid !== "direct" && figures !== undefined) peak[tid] = figures.peakMB;
    if (tid === "direct" && figures !== undefined) notes.push(`The emulator's own peak RSS under direct load: ${figures.peakMB} MB.`);
    if (run.non2xx + run.errors > 0) failures[tid] = { ...run.statusCounts, errors: run.errors };
  }
  if (Object.keys(failures).length > 0) notes.push(`non-2xx or failed responses: ${JSON.stringify(failures)}`);
  const rows: MetricRow[] = [
    {
      scenario: id,
      key: "rps",
      label: "requests/s",
      unit: "req/s",
      better: "higher",
      values: rps,
      chart: true,
      ratioTarget: target.rpsVsDirect,
    },
    { scenario: id, key: "p99", label: "latency p99", unit: "ms", better: "lower", values: p99, chart: false },
    {
      scenario: id,
      key: "peak_rss",
      label: "gateway peak RSS",
      unit: "MB",
      better: "lower",
      values: peak,
      chart: true,
      ...(limitMB === undefined ? {} : { limit: limitMB }),
    },
  ];
  const checks: Check[] = [];
  const x = rps.xgate;
  const d = rps.direct;
  checks.push({
    scenario: id,
    description: `requests/s ≥ ${target.rpsVsDirect}× direct's at concurrency ${CONNECTIONS}`,
    measured:
      x === undefined || d === undefined || !(d > 0)
        ? `not measured (${x === undefined ? "xgate did not run" : "direct completed no request"})`
        : `${x.toFixed(1)} vs ${d.toFixed(1)} req/s: ${(x / d).toFixed(2)}×`,
    met: x === undefined || d === undefined || !(d > 0) ? null : x / d >= target.rpsVsDirect,
  });
  if (limitMB !== undefined) {
    const mb = peak.xgate;
    checks.push({
      scenario: id,
      description: `peak RSS ≤ ${limitMB} MB`,
      measured: mb === undefined ? "not measured (xgate did not run)" : `${mb} MB`,
      met: mb === undefined ? null : mb <= limitMB,
    });
  }
  const details: Record<string, unknown> = {};
  for (const [tid, m] of measured) details[tid] = { ...m.run, rss: m.rss };
  return { id, title, method, rows, checks, notes, details };
}

async function supported(targets: Target[], request: (t: Target) => HttpRequestSpec, notes: string[]): Promise<Target[]> {
  const ok: Target[] = [];
  for (const t of targets) {
    const verdict = await preflight(request(t), judgeImage);
    if (verdict.ok) ok.push(t);
    else notes.push(`${t.id} left out: ${verdict.reason}`);
  }
  return ok;
}

export async function runS4(ctx: BenchContext, allTargets: Target[]): Promise<ScenarioResult> {
  const notes: string[] = [];
  const request = (t: Target): HttpRequestSpec =>
    jsonRequest(
      t,
      "/images/generations",
      { model: t.models.image, prompt: PROMPT, n: 1, size: `${SIZE}x${SIZE}`, response_format: "b64_json" },
      t.id,
    );
  const targets = await supported(allTargets, request, notes);
  const durationS = ctx.durations.s4DurationS;
  const measured = await loadEach(ctx, "S4", targets, request, durationS);
  return resultOf(
    "S4",
    "b64_json image generation, 1024×1024, concurrency 16",
    `autocannon, ${CONNECTIONS} connections, ${ctx.durations.warmupS} s warm-up then ${durationS} s per target, one target ` +
      "at a time; peak RSS of the gateway's process over its own run (sampled every 10 ms, and VmHWM).",
    measured,
    notes,
    { rpsVsDirect: 0.7 },
  );
}

export async function runS5(ctx: BenchContext, allTargets: Target[]): Promise<ScenarioResult> {
  const notes: string[] = [];
  const fixture = await editFixture(ctx.scratchDir);
  const image = readFileSync(fixture.path);
  const bodies = new Map<TargetId, string>();
  for (const t of allTargets) {
    const path = join(ctx.scratchDir, `s5-${t.id}.multipart`);
    const fields = { model: t.models.image, prompt: PROMPT, n: "1", size: `${SIZE}x${SIZE}`, response_format: "b64_json" };
    writeFileSync(path, multipartBody(fields, { field: "image", filename: "noise.png", type: "image/png", data: image }));
    bodies.set(t.id, path);
  }
  const request = (t: Target): HttpRequestSpec =>
    multipartRequest(t, "/images/edits", bodies.get(t.id) as string, BOUNDARY, t.id);
  const targets = await supported(allTargets, request, notes);
  const durationS = ctx.durations.s5DurationS;
  const measured = await loadEach(ctx, "S5", targets, request, durationS);
  const mb = (fixture.bytes / 1e6).toFixed(1);
  return resultOf(
    "S5",
    `image edits with ${mb} MB uploads, concurrency 16`,
    `multipart (one ${fixture.side}×${fixture.side} PNG of noise, ${mb} MB) via autocannon, ${CONNECTIONS} connections, ` +
      `${ctx.durations.warmupS} s warm-up then ${durationS} s per target, one target at a time; gateway peak RSS as in S4.`,
    measured,
    notes,
    { rpsVsDirect: 0.6, peakRssMB: 200 },
  );
}
