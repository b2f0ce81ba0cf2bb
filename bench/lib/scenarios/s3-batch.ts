// S3: large batches of 1,024-dim embeddings (bge-large-en-v1.5): 2,048 inputs asking for floats, then for
// base64, then 8,192 inputs asking for floats. One request at a time, targets alternating round by round; each
// request timed to its first and its last body byte, base64 answers decoded as the openai client does; the
// gateways are started afresh before each window so that each peak RSS is that window's own.
import { dataOf, jsonRequest, preflight, rotate, runPlan } from "../load.js";
import type { Verdict } from "../load.js";
import type { JobResult, SequentialJob } from "../loadgen-protocol.js";
import { withRss } from "../memory.js";
import type { RssFigures } from "../memory.js";
import { median, quantile } from "../stats.js";
import type { BenchContext, Check, MetricRow, ScenarioResult, Target, TargetId } from "../types.js";
import { EMBEDDING_PATH } from "./s1-latency.js";

export const BATCH_SIZE = 2048;
const LARGE_BATCH_SIZE = 8192;
const DIMS = 1024;
/** xgate's end-to-end time may be at most this many times direct's. */
const TIME_VS_DIRECT = 1.2;
/** xgate's first body byte may come at most this long after direct's (the upstream's own first byte). */
const FIRST_BYTE_OVER_DIRECT_MS = 10;
const PEAK_RSS_LIMIT_MB = 120;
/** xgate's peak RSS on 8,192 inputs may be at most this much above its peak on 2,048: it must not grow with the batch. */
const LARGE_BATCH_RSS_GROWTH_MB = 20;

type Encoding = "float" | "base64";

interface Window {
  key: string;
  /** As the report shows it, e.g. "2,048 base64". */
  label: string;
  encoding: Encoding;
  batch: number;
  rounds: number;
  /** Why Portkey sits this window out, when it does. */
  withoutPortkey?: string;
}

function batchInputs(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `Passage ${i}: gateways should add nothing but value to a call.`);
}

/** Checks a preflight answer; adds the target to `answersBase64` when its embeddings are base64 strings. */
function judge(target: Target, window: Window, answersBase64: Set<TargetId>): (json: unknown) => Verdict {
  return (json) => {
    const data = dataOf(json);
    if (data === undefined || data.length !== window.batch) return { ok: false, reason: `expected ${window.batch} embeddings` };
    const first = (data[0] as { embedding?: unknown }).embedding;
    if (Array.isArray(first)) {
      if (first.length !== DIMS) return { ok: false, reason: `expected ${DIMS} floats, got ${first.length}` };
      if (window.encoding === "float") return { ok: true };
      return {
        ok: true,
        note:
          target.id === "direct"
            ? "Xinference ignores encoding_format: direct answers floats to the base64 request too, the same bytes as " +
              "to a float request, so direct's time in this window is direct's float time (nothing to decode), measured " +
              "alongside the gateways."
            : `${target.id} answers float arrays to encoding_format "base64" (it passes Xinference's answer through), ` +
              "which the openai client would decode as garbage.",
      };
    }
    if (typeof first === "string") {
      const bytes = Buffer.from(first, "base64").length;
      if (bytes !== DIMS * 4) return { ok: false, reason: `base64 embedding of ${bytes} bytes, expected ${DIMS * 4}` };
      if (window.encoding !== "base64") return { ok: false, reason: "answered base64 to a float request" };
      answersBase64.add(target.id);
      return { ok: true };
    }
    return { ok: false, reason: "embedding is neither a list nor a string" };
  };
}

/** Per target, the figures of every measured round (warm-ups left out). */
interface Measured {
  timesMs: number[];
  ttfbMs: number[];
  parseMs: number[];
  decodeMs: number[];
}

function collect(results: JobResult[], notes: string[], window: Window): Map<TargetId, Measured> {
  const measured = new Map<TargetId, Measured>();
  const failures: Record<string, number> = {};
  for (const result of results) {
    const [id, roundLabel] = result.label.split("|") as [TargetId, string];
    if (result.non2xx + result.errors > 0) failures[result.label] = result.non2xx + result.errors;
    if (roundLabel === "warmup") continue;
    const m = measured.get(id) ?? { timesMs: [], ttfbMs: [], parseMs: [], decodeMs: [] };
    m.timesMs.push(...(result.latenciesMs ?? []));
    m.ttfbMs.push(...(result.ttfbMs ?? []));
    m.parseMs.push(...(result.parseMs ?? []));
    m.decodeMs.push(...(result.decodeMs ?? []));
    measured.set(id, m);
  }
  if (Object.keys(failures).length > 0) notes.push(`${window.label}: failed requests: ${JSON.stringify(failures)}`);
  return measured;
}

function medians(measured: Map<TargetId, Measured>, pick: (m: Measured) => number[]): Partial<Record<TargetId, number>> {
  const out: Partial<Record<TargetId, number>> = {};
  for (const [id, m] of measured) if (pick(m).length > 0) out[id] = median(pick(m));
  return out;
}

function gatewayPeaks(rss: Partial<Record<TargetId, RssFigures>>): Partial<Record<TargetId, number>> {
  const peak: Partial<Record<TargetId, number>> = {};
  for (const id of ["xgate", "portkey"] as const) {
    const figures = rss[id];
    if (figures !== undefined) peak[id] = figures.peakMB;
  }
  return peak;
}

const fmtMs = (v: number): string => `${v.toFixed(v < 10 ? 2 : 1)} ms`;

function notMeasured(what: Partial<Record<TargetId, number>>, ids: TargetId[]): string {
  return `not measured (${ids.filter((id) => what[id] === undefined).join(", ")} did not run)`;
}

function timeCheck(window: Window, time: Partial<Record<TargetId, number>>, xgateWrong: string | undefined): Check {
  const decoded = window.encoding === "base64" ? " with the client's decode" : "";
  const description = `${window.label}: end to end${decoded} ≤ ${TIME_VS_DIRECT}× direct's float time`;
  const x = time.xgate;
  const d = time.direct;
  if (x === undefined || d === undefined) return { scenario: "S3", description, measured: notMeasured(time, ["xgate", "direct"]), met: null };
  const measured = `${fmtMs(x)} vs ${fmtMs(d)}: ${(x / d).toFixed(2)}×`;
  return {
    scenario: "S3",
    description,
    measured: xgateWrong === undefined ? measured : `${measured}, but it ${xgateWrong}`,
    met: xgateWrong === undefined && x / d <= TIME_VS_DIRECT,
  };
}

function firstByteCheck(window: Window, ttfb: Partial<Record<TargetId, number>>): Check {
  const description = `${window.label}: first body byte within ${FIRST_BYTE_OVER_DIRECT_MS} ms of direct's (the upstream's own)`;
  const x = ttfb.xgate;
  const d = ttfb.direct;
  if (x === undefined || d === undefined) return { scenario: "S3", description, measured: notMeasured(ttfb, ["xgate", "direct"]), met: null };
  const over = x - d;
  return {
    scenario: "S3",
    description,
    measured: `${fmtMs(x)} vs ${fmtMs(d)}: ${over >= 0 ? "+" : "−"}${fmtMs(Math.abs(over))}`,
    met: over <= FIRST_BYTE_OVER_DIRECT_MS,
  };
}

function rssLimitCheck(window: Window, peakMB: number | undefined): Check {
  const description = `${window.label}: gateway peak RSS ≤ ${PEAK_RSS_LIMIT_MB} MB`;
  if (peakMB === undefined) return { scenario: "S3", description, measured: "not measured (xgate did not run)", met: null };
  return { scenario: "S3", description, measured: `${peakMB} MB`, met: peakMB <= PEAK_RSS_LIMIT_MB };
}

function rssGrowthCheck(window: Window, peakMB: number | undefined, baselineMB: number | undefined): Check {
  const description = `${window.label}: peak RSS within ${LARGE_BATCH_RSS_GROWTH_MB} MB of the 2,048 float window's`;
  if (peakMB === undefined || baselineMB === undefined) {
    return { scenario: "S3", description, measured: "not measured (xgate did not run in both windows)", met: null };
  }
  const growth = peakMB - baselineMB;
  return {
    scenario: "S3",
    description,
    measured: `${peakMB} MB vs ${baselineMB} MB: ${growth >= 0 ? "+" : "−"}${Math.abs(growth).toFixed(1)} MB`,
    met: growth <= LARGE_BATCH_RSS_GROWTH_MB,
  };
}

export async function runS3(ctx: BenchContext, gateways: () => Target[]): Promise<ScenarioResult> {
  const windows: Window[] = [
    { key: "float", label: "2,048 float", encoding: "float", batch: BATCH_SIZE, rounds: ctx.durations.s3Rounds },
    { key: "base64", label: "2,048 base64", encoding: "base64", batch: BATCH_SIZE, rounds: ctx.durations.s3Rounds },
    {
      key: "float_8192",
      label: "8,192 float",
      encoding: "float",
      batch: LARGE_BATCH_SIZE,
      rounds: ctx.durations.s3LargeRounds,
      // Seen: ~15 s and ~1.7 GB per 8,192 batch; the window's target is on xgate's memory alone.
      withoutPortkey: "Portkey is left out (it takes ~15 s and ~1.7 GB RSS per 8,192 batch); the target here is xgate's own memory growth",
    },
  ];
  const rows: MetricRow[] = [];
  const checks: Check[] = [];
  const notes: string[] = [];
  const details: Record<string, unknown> = {};
  /** xgate's peak on the 2,048 float window: the 8,192 window's baseline. */
  let baselinePeakMB: number | undefined;

  for (const [n, window] of windows.entries()) {
    // The scenario's first window gets the processes run.ts started (fresh when another scenario ran before).
    if (n > 0) await ctx.freshGateways();
    const input = batchInputs(window.batch);
    const body = (t: Target): unknown => ({ model: t.models.embedLarge, input, encoding_format: window.encoding });
    const targets: Target[] = [];
    let xgateWrong: string | undefined;
    const answersBase64 = new Set<TargetId>();
    const skipPortkey = window.withoutPortkey !== undefined && gateways().some((t) => t.id === "portkey");
    if (skipPortkey) notes.push(`${window.label}: ${window.withoutPortkey}.`);
    for (const t of gateways().filter((g) => !skipPortkey || g.id !== "portkey")) {
      const verdict = await preflight(jsonRequest(t, EMBEDDING_PATH, body(t), "preflight"), judge(t, window, answersBase64));
      if (verdict.ok) {
        targets.push(t);
        if (verdict.note !== undefined) notes.push(`${window.label}: ${verdict.note}`);
        // The gateway must encode base64 itself (Xinference ignores encoding_format): floats are a wrong answer.
        if (t.id === "xgate" && window.encoding === "base64" && !answersBase64.has(t.id)) {
          xgateWrong = "answers float arrays, not base64";
        }
      } else {
        notes.push(`${window.label}: ${t.id} left out: ${verdict.reason}`);
      }
    }
    const job = (t: Target, label: string): SequentialJob => ({
      kind: "sequential",
      ...jsonRequest(t, EMBEDDING_PATH, body(t), label),
      count: 1,
      timeoutS: 300,
      // An answer of float arrays has nothing to decode (the parse, which is not counted, made the numbers): it is
      // read exactly as in the float window, not held, so direct's time here is its float time.
      ...(answersBase64.has(t.id) ? { decodeBase64Embeddings: true } : {}),
    });
    const jobs: SequentialJob[] = targets.map((t) => job(t, `${t.id}|warmup`));
    for (let r = 0; r < window.rounds; r++) for (const t of rotate(targets, r)) jobs.push(job(t, `${t.id}|${r}`));
    const { value: results, rss } = await withRss(targets, () => runPlan(ctx, `s3-${window.key}`, jobs));
    const measured = collect(results, notes, window);

    const time = medians(measured, (m) => m.timesMs);
    const ttfb = medians(measured, (m) => m.ttfbMs);
    const peak = gatewayPeaks(rss);
    const large = window.batch === LARGE_BATCH_SIZE;
    const rssLimit = large ? (baselinePeakMB === undefined ? undefined : baselinePeakMB + LARGE_BATCH_RSS_GROWTH_MB) : PEAK_RSS_LIMIT_MB;
    rows.push({
      scenario: "S3",
      key: `${window.key}_time`,
      label: `${window.label}: time per batch${window.encoding === "base64" ? " incl. decode" : ""} (median)`,
      unit: "ms",
      better: "lower",
      values: time,
      chart: true,
      ...(large ? {} : { ratioTarget: TIME_VS_DIRECT }),
    });
    rows.push({
      scenario: "S3",
      key: `${window.key}_ttfb`,
      label: `${window.label}: time to first byte (median)`,
      unit: "ms",
      better: "lower",
      values: ttfb,
      chart: true,
      ...(large || ttfb.direct === undefined ? {} : { ratioTarget: (ttfb.direct + FIRST_BYTE_OVER_DIRECT_MS) / ttfb.direct }),
    });
    if (window.encoding === "base64") {
      rows.push({
        scenario: "S3",
        key: `${window.key}_decode`,
        label: `${window.label}: client's base64 decode (median)`,
        unit: "ms",
        better: "lower",
        values: medians(measured, (m) => m.decodeMs),
        chart: false,
        noRatio: true,
      });
    }
    rows.push({
      scenario: "S3",
      key: `${window.key}_peak_rss`,
      label: `${window.label}: gateway peak RSS`,
      unit: "MB",
      better: "lower",
      values: peak,
      chart: true,
      ...(rssLimit === undefined ? {} : { limit: rssLimit }),
    });
    const p90: Partial<Record<TargetId, number>> = {};
    for (const [id, m] of measured) p90[id] = quantile(m.timesMs, 0.9);
    details[window.key] = { batch: window.batch, encoding: window.encoding, ...Object.fromEntries(measured), p90Ms: p90, rss };

    if (large) {
      checks.push(rssGrowthCheck(window, peak.xgate, baselinePeakMB));
    } else {
      checks.push(timeCheck(window, time, xgateWrong), firstByteCheck(window, ttfb), rssLimitCheck(window, peak.xgate));
      if (window.encoding === "float") baselinePeakMB = peak.xgate;
    }
  }

  return {
    id: "S3",
    title: "Large embedding batches, 1,024 dims: 2,048 inputs as float and as base64, 8,192 as float",
    method:
      `one request at a time (keep-alive), 1 warm-up then ${ctx.durations.s3Rounds} rounds per target with the order ` +
      `rotated (8,192: ${ctx.durations.s3LargeRounds} round${ctx.durations.s3LargeRounds === 1 ? "" : "s"}); ` +
      "medians of the end-to-end time (request sent → last body byte) and of the time to the first body byte; " +
      "direct's first byte is the upstream's own, as each gateway's upstream request is the same. For base64 the " +
      "load generator then parses each answer of base64 strings and decodes them as the openai client does " +
      '(`Buffer.from(b64, "base64")` and a Float32Array over it): the decode counts in the time, the JSON parse ' +
      "(which a client pays for a float answer too) does not and is in the JSON file; an answer of float arrays has " +
      "nothing to decode and is timed as in the float window. The gateways are started " +
      "afresh before each window; RSS sampled every 10 ms and the kernel's VmHWM, reset per window.",
    rows,
    checks,
    notes,
    details,
  };
}
