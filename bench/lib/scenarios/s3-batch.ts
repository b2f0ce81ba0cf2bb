// S3: a 2,048-input batch of 1,024-dim embeddings (bge-large-en-v1.5), once asking for floats and once for
// base64. End-to-end time per request, one request at a time, targets alternating round by round; the
// gateways' peak RSS over each encoding's window.
import { dataOf, jsonRequest, preflight, rotate, runPlan } from "../load.js";
import type { Verdict } from "../load.js";
import type { SequentialJob } from "../loadgen-protocol.js";
import { withRss } from "../memory.js";
import { median, quantile } from "../stats.js";
import type { BenchContext, Check, MetricRow, ScenarioResult, Target, TargetId } from "../types.js";
import { EMBEDDING_PATH } from "./s1-latency.js";

export const BATCH_SIZE = 2048;
const DIMS = 1024;
type Encoding = "float" | "base64";

function batchInputs(): string[] {
  return Array.from({ length: BATCH_SIZE }, (_, i) => `Passage ${i}: gateways should add nothing but value to a call.`);
}

function judge(target: Target, encoding: Encoding): (json: unknown) => Verdict {
  return (json) => {
    const data = dataOf(json);
    if (data === undefined || data.length !== BATCH_SIZE) return { ok: false, reason: `expected ${BATCH_SIZE} embeddings` };
    const first = (data[0] as { embedding?: unknown }).embedding;
    if (Array.isArray(first)) {
      if (first.length !== DIMS) return { ok: false, reason: `expected ${DIMS} floats, got ${first.length}` };
      if (encoding === "float") return { ok: true };
      return {
        ok: true,
        note:
          target.id === "direct"
            ? "Xinference ignores encoding_format: direct answers floats to the base64 request too (that call is the baseline)."
            : `${target.id} answers float arrays to encoding_format "base64" (it passes Xinference's answer through), ` +
              "which the openai client would decode as garbage.",
      };
    }
    if (typeof first === "string") {
      const bytes = Buffer.from(first, "base64").length;
      if (bytes !== DIMS * 4) return { ok: false, reason: `base64 embedding of ${bytes} bytes, expected ${DIMS * 4}` };
      return encoding === "base64" ? { ok: true } : { ok: false, reason: "answered base64 to a float request" };
    }
    return { ok: false, reason: "embedding is neither a list nor a string" };
  };
}

export async function runS3(ctx: BenchContext, allTargets: Target[]): Promise<ScenarioResult> {
  const rounds = ctx.durations.s3Rounds;
  const input = batchInputs();
  const rows: MetricRow[] = [];
  const checks: Check[] = [];
  const notes: string[] = [];
  const details: Record<string, unknown> = {};

  for (const encoding of ["float", "base64"] as const) {
    const body = (t: Target): unknown => ({ model: t.models.embedLarge, input, encoding_format: encoding });
    const targets: Target[] = [];
    let xgateWrong: string | undefined;
    for (const t of allTargets) {
      const verdict = await preflight(jsonRequest(t, EMBEDDING_PATH, body(t), "preflight"), judge(t, encoding));
      if (verdict.ok) {
        targets.push(t);
        if (verdict.note !== undefined) notes.push(`${encoding}: ${verdict.note}`);
        // The gateway must encode base64 itself (Xinference ignores encoding_format): floats are a wrong answer.
        if (t.id === "xgate" && verdict.note !== undefined) xgateWrong = "answers float arrays, not base64";
      } else {
        notes.push(`${encoding}: ${t.id} left out: ${verdict.reason}`);
      }
    }
    const job = (t: Target, label: string, count: number): SequentialJob => ({
      kind: "sequential",
      ...jsonRequest(t, EMBEDDING_PATH, body(t), label),
      count,
      timeoutS: 120,
    });
    const jobs: SequentialJob[] = targets.map((t) => job(t, `${t.id}|warmup`, 1));
    for (let r = 0; r < rounds; r++) for (const t of rotate(targets, r)) jobs.push(job(t, `${t.id}|${r}`, 1));
    const { value: results, rss } = await withRss(targets, () => runPlan(ctx, `s3-${encoding}`, jobs));

    const times = new Map<TargetId, number[]>();
    const failures: Record<string, number> = {};
    for (const result of results) {
      const [id, roundLabel] = result.label.split("|") as [TargetId, string];
      if (result.non2xx + result.errors > 0) failures[result.label] = result.non2xx + result.errors;
      if (roundLabel !== "warmup") times.set(id, [...(times.get(id) ?? []), ...(result.latenciesMs ?? [])]);
    }
    if (Object.keys(failures).length > 0) notes.push(`${encoding}: failed requests: ${JSON.stringify(failures)}`);

    const med: Partial<Record<TargetId, number>> = {};
    const p90: Partial<Record<TargetId, number>> = {};
    for (const [id, list] of times) {
      med[id] = median(list);
      p90[id] = quantile(list, 0.9);
    }
    const peak: Partial<Record<TargetId, number>> = {};
    for (const id of ["xgate", "portkey"] as const) {
      const figures = rss[id];
      if (figures !== undefined) peak[id] = figures.peakMB;
    }
    rows.push({
      scenario: "S3",
      key: `${encoding}_time`,
      label: `${encoding}: time per batch (median)`,
      unit: "ms",
      better: "lower",
      values: med,
      chart: true,
      ratioTarget: 1.2,
    });
    rows.push({
      scenario: "S3",
      key: `${encoding}_peak_rss`,
      label: `${encoding}: gateway peak RSS`,
      unit: "MB",
      better: "lower",
      values: peak,
      chart: true,
    });
    details[encoding] = { timesMs: Object.fromEntries(times), p90Ms: p90, rss };

    const ratio = med.xgate !== undefined && med.direct !== undefined ? med.xgate / med.direct : undefined;
    const overBy = ratio === undefined ? "not measured" : ratio >= 1 ? `${((ratio - 1) * 100).toFixed(1)}% over` : `${((1 - ratio) * 100).toFixed(1)}% under`;
    checks.push({
      scenario: "S3",
      description: `${encoding}: 2,048 × 1,024-dim batch ≤ 20% over direct`,
      measured: xgateWrong === undefined ? overBy : `${overBy}, but it ${xgateWrong}`,
      met: ratio === undefined ? null : xgateWrong === undefined && ratio <= 1.2,
    });
  }

  return {
    id: "S3",
    title: "2,048-input, 1,024-dim embedding batch",
    method:
      `one request at a time (keep-alive), 1 warm-up then ${rounds} rounds per target with the order rotated; ` +
      "median end-to-end time (request sent → last body byte); RSS sampled every 10 ms and the kernel's VmHWM, reset per encoding.",
    rows,
    checks,
    notes,
    details,
  };
}
