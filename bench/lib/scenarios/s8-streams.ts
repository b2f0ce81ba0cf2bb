// S8: chat streams. 64 concurrent streams of 256 tokens at 5 ms per token, through xgate and direct, in front
// of an emulator of its own that paces its tokens: the time to the first token, the gaps between chunks, and
// xgate's CPU per chunk. Then peak RSS with 1,000 streams open at once, in front of a slower emulator (so that
// the streams stay open without the upstream becoming the bottleneck).
import { CpuMeter } from "../cpu.js";
import { jsonRequest, runPlan } from "../load.js";
import type { JobResult, StreamsJob } from "../loadgen-protocol.js";
import type { Child } from "../processes.js";
import { RssSampler, rssBytes, toMB } from "../rss.js";
import { MASTER_KEY, directTarget, startEmulator, startXgate } from "../servers.js";
import { quantile } from "../stats.js";
import type { BenchContext, Check, MetricRow, ScenarioResult, Target, Unit } from "../types.js";

const CONNECTIONS = 64;
const TOKENS = 256;
const TOKEN_DELAY_MS = 5;
/** The memory window: this many streams at once, each of IDLE_TOKENS tokens IDLE_TOKEN_DELAY_MS apart. */
const OPEN_STREAMS = 1000;
const IDLE_TOKENS = 150;
const IDLE_TOKEN_DELAY_MS = 100;
const CHAT_PATH = "/chat/completions";
const LLM_UID = "qwen2.5-instruct";
const ADDED_MS_LIMIT = 1;
const RSS_LIMIT_MB = 150;

function config(emulatorBaseUrl: string): string {
  return `# Written by bench/run.ts for S8.
model_list:
  - model_name: ${LLM_UID}
    litellm_params: { model: xinference/${LLM_UID}, api_base: "${emulatorBaseUrl}" }
general_settings: { master_key: ${MASTER_KEY} }
`;
}

/** `ignore_eos` (vLLM's, which the emulator honours) makes every answer exactly `tokens` long. */
function streamBody(tokens: number): unknown {
  return {
    model: LLM_UID,
    messages: [{ role: "user", content: "Tell me a long story about gateways." }],
    stream: true,
    max_tokens: tokens,
    ignore_eos: true,
  };
}

function streamsJob(target: Target, label: string, connections: number, durationS: number, tokens: number, once = false): StreamsJob {
  return { kind: "streams", ...jsonRequest(target, CHAT_PATH, streamBody(tokens), label), connections, durationS, once, timeoutS: 60 };
}

async function runStreams(ctx: BenchContext, job: StreamsJob): Promise<JobResult> {
  const [result] = await runPlan(ctx, job.label, [job]);
  if (result === undefined) throw new Error("the load generator returned no result");
  return result;
}

interface Totals {
  streams: number;
  failed: number;
  events: number;
  ttftP50: number;
  ttftP99: number;
  gapP99: number;
  /** µs of the target's server process per event received (direct: the emulator's). */
  cpuUsPerEvent: number;
}

function totals(runs: { result: JobResult; cpuS: number }[]): Totals {
  const ttfts = runs.flatMap((r) => r.result.ttftMs ?? []);
  const events = runs.reduce((sum, r) => sum + (r.result.events ?? 0), 0);
  const cpuS = runs.reduce((sum, r) => sum + r.cpuS, 0);
  return {
    streams: runs.reduce((sum, r) => sum + r.result.ok, 0),
    failed: runs.reduce((sum, r) => sum + r.result.non2xx + r.result.errors, 0),
    events,
    ttftP50: quantile(ttfts, 0.5),
    ttftP99: quantile(ttfts, 0.99),
    // Each round's p99 is over ~100k gaps; their mean is the figure (the rounds are of equal length).
    gapP99: runs.reduce((sum, r) => sum + (r.result.gapMs?.p99 ?? Number.NaN), 0) / runs.length,
    cpuUsPerEvent: events > 0 ? (cpuS / events) * 1e6 : Number.NaN,
  };
}

function notRun(reason: string): ScenarioResult {
  return {
    id: "S8",
    title: "Chat streams",
    method: "",
    rows: [],
    checks: [{ scenario: "S8", description: `xgate adds ≤ ${ADDED_MS_LIMIT} ms to time to first token and to each chunk`, measured: `not measured (${reason})`, met: null }],
    notes: [reason],
    details: {},
  };
}

/** One stream through the target must arrive whole (every token and `[DONE]`) before it is loaded. */
async function preflight(ctx: BenchContext, target: Target, name: string): Promise<string | undefined> {
  const result = await runStreams(ctx, streamsJob(target, `s8-${name}-preflight`, 1, 0, TOKENS, true));
  // The role and content chunks, the finish chunk and [DONE]: at least one event per token.
  if (result.ok !== 1 || (result.events ?? 0) < TOKENS) {
    return `${name} did not stream ${TOKENS} tokens and [DONE] (status ${JSON.stringify(result.statusCounts)}, ${result.events ?? 0} events)`;
  }
  return undefined;
}

export async function runS8(ctx: BenchContext): Promise<ScenarioResult> {
  if (ctx.xgate === undefined) return notRun("xgate is not among the targets");
  const { s8Rounds, s8DurationS, warmupS } = ctx.durations;
  const children: Child[] = [];
  try {
    const emulator = await startEmulator(ctx, { name: "emulator-s7", tokenDelayMs: TOKEN_DELAY_MS });
    children.push(emulator.child);
    const xgate = await startXgate(ctx, emulator.baseUrl, ctx.xgate, { name: "xgate-s7", config: config(emulator.baseUrl) });
    children.push(xgate.child);
    const direct = directTarget(emulator);
    const targets = [
      { name: "direct", target: direct },
      { name: "xgate", target: xgate },
    ];
    for (const t of targets) {
      const failure = await preflight(ctx, t.target, t.name);
      if (failure !== undefined) return notRun(failure);
    }

    const measure = async (t: (typeof targets)[number], label: string, durationS: number): Promise<{ result: JobResult; cpuS: number }> => {
      const meter = new CpuMeter(t.target.child.pid);
      const result = await runStreams(ctx, streamsJob(t.target, `s8-${t.name}-${label}`, CONNECTIONS, durationS, TOKENS));
      return { result, cpuS: meter.stop().cpuS };
    };
    for (const t of targets) await measure(t, "warmup", warmupS);
    const runs: { name: string; result: JobResult; cpuS: number }[] = [];
    for (let r = 0; r < s8Rounds; r++) {
      const order = r % 2 === 0 ? targets : [...targets].reverse();
      for (const t of order) runs.push({ name: t.name, ...(await measure(t, String(r), s8DurationS)) });
    }
    const d = totals(runs.filter((r) => r.name === "direct"));
    const x = totals(runs.filter((r) => r.name === "xgate"));

    // The memory window: a fresh xgate in front of a slow emulator, 1,000 streams opened together.
    const slow = await startEmulator(ctx, { name: "emulator-s8-slow", tokenDelayMs: IDLE_TOKEN_DELAY_MS });
    children.push(slow.child);
    const held = await startXgate(ctx, slow.baseUrl, ctx.xgate, { name: "xgate-s8-open", config: config(slow.baseUrl) });
    children.push(held.child);
    const idleMB = toMB(rssBytes(held.child.pid));
    const sampler = new RssSampler(held.child.pid);
    const open = await runStreams(ctx, streamsJob(held, "s8-open", OPEN_STREAMS, 0, IDLE_TOKENS, true));
    const peakMB = toMB(sampler.stop().peakBytes);

    const row = (key: string, label: string, unit: Unit, values: MetricRow["values"], extra: Partial<MetricRow> = {}): MetricRow => ({
      scenario: "S8",
      key,
      label,
      unit,
      better: "lower",
      values,
      chart: false,
      ...extra,
    });
    const addedTtft50 = x.ttftP50 - d.ttftP50;
    const addedTtft99 = x.ttftP99 - d.ttftP99;
    const addedGap99 = x.gapP99 - d.gapP99;
    const rows: MetricRow[] = [
      row("ttft_p50", "time to first token p50", "ms", { direct: d.ttftP50, xgate: x.ttftP50 }),
      row("ttft_p99", "time to first token p99", "ms", { direct: d.ttftP99, xgate: x.ttftP99 }),
      row("ttft_added_p50", "added time to first token p50 (− direct)", "ms", { xgate: addedTtft50 }, { noRatio: true }),
      row("ttft_added_p99", "added time to first token p99 (− direct)", "ms", { xgate: addedTtft99 }, { noRatio: true }),
      row("gap_p99", "gap between chunks p99", "ms", { direct: d.gapP99, xgate: x.gapP99 }),
      row("gap_added", "added gap between chunks p99 (− direct)", "ms", { xgate: addedGap99 }, { noRatio: true }),
      row("cpu_event", "server CPU per chunk", "µs", { direct: d.cpuUsPerEvent, xgate: x.cpuUsPerEvent }),
      row("rss_open", `peak RSS, ${OPEN_STREAMS} streams open`, "MB", { xgate: peakMB }, { chart: true, limit: RSS_LIMIT_MB }),
    ];
    const ms = (v: number): string => `${v.toFixed(2)} ms`;
    const allOpen = open.maxOpen === OPEN_STREAMS && open.ok === OPEN_STREAMS;
    const checks: Check[] = [
      { scenario: "S8", description: `time to first token: xgate adds ≤ ${ADDED_MS_LIMIT} ms at p50`, measured: ms(addedTtft50), met: addedTtft50 <= ADDED_MS_LIMIT },
      { scenario: "S8", description: `time to first token: xgate adds ≤ ${ADDED_MS_LIMIT} ms at p99`, measured: ms(addedTtft99), met: addedTtft99 <= ADDED_MS_LIMIT },
      { scenario: "S8", description: `gap between chunks: xgate adds ≤ ${ADDED_MS_LIMIT} ms at p99`, measured: ms(addedGap99), met: addedGap99 <= ADDED_MS_LIMIT },
      {
        scenario: "S8",
        description: `peak RSS ≤ ${RSS_LIMIT_MB} MB with ${OPEN_STREAMS} streams open at once`,
        measured: `${peakMB} MB (idle ${idleMB} MB; ${open.maxOpen ?? 0} open at most, ${open.ok} complete)`,
        met: allOpen ? peakMB <= RSS_LIMIT_MB : null,
      },
    ];
    const notes = [
      `${x.streams} streams through xgate and ${d.streams} direct completed in the timed rounds (${x.events} and ${d.events} chunks).`,
    ];
    if (x.failed + d.failed > 0) notes.push(`failed or incomplete streams: xgate ${x.failed}, direct ${d.failed}`);
    if (!allOpen) notes.push(`the memory window did not hold ${OPEN_STREAMS} streams open at once: ${JSON.stringify(open.statusCounts)}, ${open.errors} errors`);
    return {
      id: "S8",
      title: `Chat streams: ${CONNECTIONS} concurrent streams of ${TOKENS} tokens at ${TOKEN_DELAY_MS} ms per token`,
      method:
        `an emulator of its own with --token-delay-ms ${TOKEN_DELAY_MS}; chat completions with stream: true, max_tokens ${TOKENS} and ` +
        `ignore_eos, ${CONNECTIONS} connections each starting its next stream when one ends, ${s8Rounds} × ${s8DurationS} s per target ` +
        `in the order A B B A after ${warmupS} s of warm-up; every SSE event timed in the load generator's process; CPU per chunk from ` +
        `/proc/<pid>/stat over the rounds. Memory: a fresh xgate before an emulator with --token-delay-ms ${IDLE_TOKEN_DELAY_MS}, ` +
        `${OPEN_STREAMS} streams of ${IDLE_TOKENS} tokens opened together, RSS sampled every 10 ms.`,
      rows,
      checks,
      notes,
      details: { direct: d, xgate: x, open: { ...open, ttftMs: undefined }, idleMB, peakMB },
    };
  } finally {
    await Promise.all(children.map((child) => child.stop(15_000)));
  }
}
