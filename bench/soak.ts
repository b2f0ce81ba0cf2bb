// `npm run soak`: ten minutes (by default) of mixed traffic against xgate — embeddings small and large, image
// generations, image edits, rerank, chat streams when xgate proxies chat — with upstream faults injected on a
// rotating schedule and clients that hang up mid-request, then a judgement of what a long run may leak in xgate's
// process: memory, descriptors, sockets, spool files, and 5xx answers no fault explains. The emulator runs in this
// process (its faults can only be set in-process); xgate in its own, as the bench starts it. Only 127.0.0.1;
// every loop stops by itself.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { setTimeout as sleep } from "node:timers/promises";
import sharp from "sharp";
import { startEmulator } from "../test/support/emulator/index.js";
import type { EmulatorRoute } from "../test/support/emulator/index.js";
import { gitRevision } from "./lib/report.js";
import { toMB } from "./lib/rss.js";
import { MASTER_KEY, startXgate, UIDS, xgateCommand } from "./lib/servers.js";
import { FaultSchedule } from "./lib/soak/faults.js";
import type { FaultTiming } from "./lib/soak/faults.js";
import { fdCounts, filesInSpools, sampleProcess, spoolFiles } from "./lib/soak/probes.js";
import type { ProcessSample } from "./lib/soak/probes.js";
import { pct, printSoakSummary, rssTrend, writeSoakReport } from "./lib/soak/report.js";
import type { RouteCounts, SoakCheck, SoakReport } from "./lib/soak/report.js";
import { ROUTE_OF, runTraffic } from "./lib/soak/traffic.js";
import type { Models, Outcome, RequestKind, TrafficOptions } from "./lib/soak/traffic.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

const USAGE = `Usage: npm run soak -- [options]

  --minutes N          traffic for N minutes (default 10; fractions allowed, e.g. 0.5)
  --concurrency N      client loops (default 6)
  --out DIR            where soak-<time>.{md,json} go (default bench/results; bench/scratch/… for trials)
  --xgate auto|dist|src|PATH  which xgate, as for npm run bench (default auto: dist/proxy/cli.js)
  --help`;

/** xgate's per-attempt timeout in the soak's config: a stalled upstream call ends after it. */
const ATTEMPT_TIMEOUT_S = 5;
/** xgate's default cooldown_time: a deployment taken out by faults stays out this long. */
const COOLDOWN_S = 5;
const TIMING: FaultTiming = { windowMs: 6_000, gapMs: 9_000, aftermathMs: (ATTEMPT_TIMEOUT_S + COOLDOWN_S + 2) * 1000 };
/** The longest the idle settle at the end may wait for descriptors to come back to their baseline. */
const SETTLE_MAX_S = 30;
const CHAT_MODEL = "qwen2.5-instruct";
const RERANK_MODEL = "bge-reranker-base";

function options() {
  const { values } = parseArgs({
    options: {
      minutes: { type: "string", default: "10" },
      concurrency: { type: "string", default: "6" },
      out: { type: "string" },
      xgate: { type: "string", default: "auto" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const minutes = Number(values.minutes);
  // Bounded: at most a day, so that a typo cannot start a run that never ends.
  if (!Number.isFinite(minutes) || minutes <= 0 || minutes > 24 * 60) throw new Error(`--minutes must be in (0, 1440], got "${values.minutes}"`);
  const concurrency = Number(values.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) throw new Error(`--concurrency must be 1..64`);
  return { minutes, concurrency, outDir: resolve(values.out ?? join(ROOT, "bench", "results")), xgate: values.xgate };
}

/** Whether this build of xgate has a chat route: its routes folder names /v1/chat/completions. */
function servesChat(cliPath: string): boolean {
  const routes = join(dirname(cliPath), "routes");
  if (!existsSync(routes)) return false;
  return readdirSync(routes).some((file) => /\.(js|ts)$/.test(file) && readFileSync(join(routes, file), "utf8").includes("/v1/chat/completions"));
}

function soakConfig(emulatorBaseUrl: string, chat: boolean): string {
  const entry = (name: string, uid: string): string =>
    `  - model_name: ${name}\n    litellm_params: { model: xinference/${uid}, api_base: "${emulatorBaseUrl}", timeout: ${ATTEMPT_TIMEOUT_S} }\n`;
  return (
    "# Written by bench/soak.ts for one soak run.\nmodel_list:\n" +
    entry(UIDS.embedSmall, UIDS.embedSmall) +
    entry(UIDS.embedLarge, UIDS.embedLarge) +
    entry("sd3.5", UIDS.image) +
    entry(RERANK_MODEL, RERANK_MODEL) +
    (chat ? entry(CHAT_MODEL, CHAT_MODEL) : "") +
    `litellm_settings: { request_timeout: 20 }\ngeneral_settings: { master_key: ${MASTER_KEY} }\n`
  );
}

function emptyCounts(): RouteCounts {
  return { requests: 0, ok: 0, status4xx: 0, status5xxFault: 0, status5xxUnexplained: 0, aborted: 0, errorsFault: 0, errorsUnexplained: 0 };
}

/** Polls until xgate holds no more descriptors and sockets than `baseline` (or SETTLE_MAX_S passes). */
async function settle(pid: number, baseline: { fds: number; sockets: number } | undefined): Promise<{ afterS: number; fds: number; sockets: number }> {
  const t0 = Date.now();
  let now = fdCounts(pid);
  // Before the baseline exists: wait for the keep-alive sockets of the first requests to close (a few seconds).
  const target = baseline ?? { fds: Number.POSITIVE_INFINITY, sockets: 0 };
  let quietSince = Date.now();
  let last = now.sockets;
  while (Date.now() - t0 < SETTLE_MAX_S * 1000) {
    if (baseline !== undefined && now.fds <= target.fds && now.sockets <= target.sockets) break;
    // Without a baseline: settled once the socket count stayed put for 6 s (past undici's 4 s keep-alive).
    if (baseline === undefined && Date.now() - quietSince >= 6000) break;
    await sleep(1000);
    now = fdCounts(pid);
    if (now.sockets !== last) {
      last = now.sockets;
      quietSince = Date.now();
    }
  }
  return { afterS: (Date.now() - t0) / 1000, ...now };
}

async function main(): Promise<void> {
  const opts = options();
  const startedAt = new Date();
  const scratchDir = join(ROOT, "bench", "scratch", "soak");
  const logDir = join(scratchDir, "logs");
  const tmpDir = join(scratchDir, "tmp");
  rmSync(scratchDir, { recursive: true, force: true });
  mkdirSync(logDir, { recursive: true });
  mkdirSync(tmpDir, { recursive: true });
  const where = { root: ROOT, scratchDir, logDir };
  const command = xgateCommand(ROOT, opts.xgate);
  if ("missing" in command) throw new Error(command.missing);
  const cliPath = command.args[command.args.length - 1] as string;
  const chat = servesChat(cliPath);
  const notes: string[] = [];
  if (!chat) {
    notes.push(
      "chat streams skipped: this xgate has no /v1/chat/completions route (the emulator serves it, but every request would be a 404)",
    );
  }

  /** 5xx (or dropped connections) the emulator answered, by route, with their arrival; judged once the windows are known. */
  const emulator5xx: { route: string; atMs: number; status: number }[] = [];
  let t0 = Date.now();
  const emulator = await startEmulator({
    host: "127.0.0.1",
    port: 0,
    recordRequests: false,
    onRequest: (r) => {
      if (r.status >= 500 || r.status === 0) emulator5xx.push({ route: r.path.replace(/^\/v1\//, ""), atMs: r.at - t0, status: r.status });
    },
  });
  const xgate = await startXgate(where, emulator.baseUrl, { cliArgs: command.args, nodeArgs: [] }, {
    name: "xgate-soak",
    config: soakConfig(emulator.baseUrl, chat),
    env: { TMPDIR: tmpDir },
  });
  const pid = xgate.child.pid;
  console.log(`soak: xgate at ${xgate.baseUrl} (pid ${pid}, ${command.from}), emulator in-process at ${emulator.baseUrl}`);
  console.log(`soak: logs in ${logDir}; xgate's TMPDIR ${tmpDir}`);

  let faults: FaultSchedule | undefined;
  try {
    const png = await sharp({ create: { width: 64, height: 64, channels: 3, background: { r: 40, g: 120, b: 200 } } }).png().toBuffer();
    const models: Models = { embedSmall: UIDS.embedSmall, embedLarge: UIDS.embedLarge, image: "sd3.5", rerank: RERANK_MODEL, chat: CHAT_MODEL };
    const kinds: RequestKind[] = ["embed-small", "embed-batch", "image-generation", "image-edit", "rerank", ...(chat ? (["chat-stream"] as const) : [])];
    const base: Omit<TrafficOptions, "kinds" | "concurrency" | "deadlineMs" | "maxRequests" | "abortShare" | "t0"> = {
      baseUrl: xgate.baseUrl,
      headers: { authorization: `Bearer ${MASTER_KEY}` },
      models,
      abortMaxDelayMs: 80,
      requestTimeoutMs: 30_000,
      png,
      seed: 7,
    };

    // Every kind once, without faults or aborts: a kind xgate cannot answer at all would make the soak meaningless.
    for (const kind of kinds) {
      let outcome: Outcome | undefined;
      await runTraffic(
        { ...base, kinds: [kind], concurrency: 1, deadlineMs: Date.now() + 30_000, maxRequests: 1, abortShare: 0, t0 },
        (o) => (outcome = o),
      );
      if (outcome?.status !== 200) throw new Error(`preflight ${kind}: ${outcome?.error ?? `HTTP ${outcome?.status}`}; see ${xgate.child.logPath}`);
    }
    const baseline = await settle(pid, undefined);
    console.log(`soak: baseline after the preflight and ${baseline.afterS.toFixed(0)} s idle: ${baseline.fds} fds, ${baseline.sockets} sockets`);

    const durationMs = opts.minutes * 60_000;
    const sampleMs = opts.minutes < 2 ? 1000 : 2000;
    const warmupMs = Math.min(60_000, durationMs * 0.2);
    t0 = Date.now();
    emulator5xx.length = 0;
    const samples: ProcessSample[] = [sampleProcess(pid, tmpDir, 0, 0)];
    const outcomes: Outcome[] = [];
    const sampler = setInterval(() => samples.push(sampleProcess(pid, tmpDir, Date.now() - t0, outcomes.length)), sampleMs);
    const progress = setInterval(() => {
      const s = samples[samples.length - 1] as ProcessSample;
      console.log(`soak: ${((Date.now() - t0) / 1000).toFixed(0)} s, ${outcomes.length} requests, RSS ${toMB(s.rssBytes)} MB, ${s.fds} fds`);
    }, 30_000);
    const routes: { route: EmulatorRoute; uid: string }[] = [
      { route: "embeddings", uid: UIDS.embedSmall },
      { route: "images/generations", uid: UIDS.image },
      { route: "images/edits", uid: UIDS.image },
      { route: "rerank", uid: RERANK_MODEL },
      ...(chat ? [{ route: "chat/completions" as const, uid: CHAT_MODEL }] : []),
    ];
    faults = new FaultSchedule(emulator, routes, TIMING, t0);
    faults.start();
    console.log(`soak: ${opts.minutes} min of traffic, ${opts.concurrency} clients, faults every ${(TIMING.windowMs + TIMING.gapMs) / 1000} s…`);
    try {
      await runTraffic(
        {
          ...base,
          kinds,
          concurrency: opts.concurrency,
          deadlineMs: t0 + durationMs,
          // A cap far above what the machine can do in the time (~1,000/s), so that the count is bounded too.
          maxRequests: Math.ceil(opts.minutes * 60 * 1000),
          abortShare: 0.1,
          t0,
        },
        (o) => outcomes.push(o),
      );
    } finally {
      faults.stop();
      clearInterval(sampler);
      clearInterval(progress);
    }
    const trafficS = (Date.now() - t0) / 1000;
    samples.push(sampleProcess(pid, tmpDir, Date.now() - t0, outcomes.length));
    console.log(`soak: traffic done (${outcomes.length} requests in ${trafficS.toFixed(0)} s); idle until descriptors settle…`);
    const end = await settle(pid, baseline);
    const spoolLeft = spoolFiles(tmpDir);
    const spoolFilesInside = filesInSpools(tmpDir);

    const uidOf: Record<RequestKind, string> = {
      "embed-small": UIDS.embedSmall,
      "embed-batch": UIDS.embedLarge,
      "image-generation": UIDS.image,
      "image-edit": UIDS.image,
      rerank: RERANK_MODEL,
      "chat-stream": CHAT_MODEL,
    };
    const counts: Partial<Record<RequestKind, RouteCounts>> = {};
    const unexplainedErrors: string[] = [];
    for (const o of outcomes) {
      const c = (counts[o.kind] ??= emptyCounts());
      c.requests++;
      const exposed = faults.exposed(ROUTE_OF[o.kind], uidOf[o.kind], o.startMs, o.endMs);
      if (o.aborted) c.aborted++;
      else if (o.status === undefined) {
        if (exposed) c.errorsFault++;
        else {
          c.errorsUnexplained++;
          if (unexplainedErrors.length < 10) unexplainedErrors.push(`${o.kind} at ${(o.startMs / 1000).toFixed(1)} s: ${o.error}`);
        }
      } else if (o.status >= 500) {
        if (exposed) c.status5xxFault++;
        else {
          c.status5xxUnexplained++;
          if (unexplainedErrors.length < 10) unexplainedErrors.push(`${o.kind} at ${(o.startMs / 1000).toFixed(1)} s: HTTP ${o.status}`);
        }
      } else if (o.status >= 400) c.status4xx++;
      else c.ok++;
    }
    const emulatorUnexplained5xx: Record<string, number> = {};
    for (const e of emulator5xx) {
      if (!faults.inWindow(e.route as EmulatorRoute, e.atMs)) emulatorUnexplained5xx[e.route] = (emulatorUnexplained5xx[e.route] ?? 0) + 1;
    }

    const rss = rssTrend(samples, warmupMs);
    const peakFds = Math.max(...samples.map((s) => s.fds));
    const peakSockets = Math.max(...samples.map((s) => s.sockets));
    const unexplained5xx = Object.values(counts).reduce((n, c) => n + c.status5xxUnexplained, 0);
    const unexplainedFailures = Object.values(counts).reduce((n, c) => n + c.errorsUnexplained, 0);
    const alive = xgate.child.process.exitCode === null && xgate.child.process.signalCode === null;
    const checks: SoakCheck[] = [
      {
        name: "RSS flat within 10% after warm-up (median of the last third vs the first)",
        ok: Math.abs(rss.change) <= 0.1,
        figure: `${rss.firstThirdMB} → ${rss.lastThirdMB} MB (${pct(rss.change)}), warm-up ${rss.warmupEndS.toFixed(0)} s`,
      },
      {
        name: "file descriptors back to baseline after the idle settle",
        ok: end.fds <= baseline.fds,
        figure: `start ${baseline.fds}, peak ${peakFds}, end ${end.fds} (after ${end.afterS.toFixed(0)} s idle)`,
      },
      {
        name: "sockets back to baseline after the idle settle",
        ok: end.sockets <= baseline.sockets,
        figure: `start ${baseline.sockets}, peak ${peakSockets}, end ${end.sockets}`,
      },
      {
        name: "no spool files left in xgate's TMPDIR (xgate-upload-* folders)",
        ok: spoolLeft === 0,
        figure:
          `${spoolLeft} left, ${spoolFilesInside} files in them ` +
          `(peak ${Math.max(...samples.map((s) => s.spoolFiles))} during the run)`,
      },
      { name: "no 5xx outside fault windows", ok: unexplained5xx === 0, figure: `${unexplained5xx}` },
      { name: "no failed connections outside fault windows", ok: unexplainedFailures === 0, figure: `${unexplainedFailures}` },
      { name: "xgate still running", ok: alive, figure: alive ? "yes" : `exited; see ${xgate.child.logPath}` },
    ];
    notes.push(
      "RSS, descriptors and sockets are xgate's process alone (one worker), from /proc/<pid>/status and /proc/<pid>/fd, " +
        `every ${sampleMs / 1000} s; the emulator and the clients run in the soak's own process.`,
      "The baseline is taken after one request of each kind and an idle wait for their keep-alive sockets to close, " +
        "so that what xgate sets up once (its upstream pool, lazily loaded modules) is not counted as a leak.",
      `Fault attribution: each window is one fault kind on one upstream route for ${TIMING.windowMs / 1000} s, half its ` +
        "requests hit; a client request counts as exposed when it overlapped a window on its route, or on another " +
        "route of the same deployment (generations and edits share sd3.5), or the " +
        `${TIMING.aftermathMs / 1000} s after such a window (the ${ATTEMPT_TIMEOUT_S} s attempt timeout that ends a stall + the ` +
        `${COOLDOWN_S} s cooldown a deployment taken out serves + 2 s). Only 5xx and failed connections of requests never ` +
        "exposed count as xgate's own. The emulator's own 5xx outside windows are counted apart (expected none).",
    );
    const report: SoakReport = {
      startedAt: startedAt.toISOString(),
      revision: gitRevision(ROOT),
      durationS: trafficS,
      settings: {
        minutes: opts.minutes,
        concurrency: opts.concurrency,
        xgate: `${command.from} (${cliPath})`,
        "request kinds": kinds.join(", "),
        "client aborts": "10% of requests, after 1–80 ms",
        "fault kinds": "status 500 (text), reset, stall, 503 + Retry-After: 2 (model loading); rate 0.5",
        "fault window / gap": `${TIMING.windowMs / 1000} s / ${TIMING.gapMs / 1000} s`,
        "xgate config": `per-attempt timeout ${ATTEMPT_TIMEOUT_S} s, request_timeout 20 s, default retries and cooldowns`,
      },
      notes,
      samples,
      settle: { afterS: end.afterS, fds: end.fds, sockets: end.sockets, spoolFiles: spoolLeft },
      windows: faults.windows,
      routes: counts,
      emulatorUnexplained5xx,
      unexplainedErrors,
      rss,
      checks,
    };
    const files = writeSoakReport(opts.outDir, report);
    printSoakSummary(report);
    for (const note of notes) console.log(`note: ${note}`);
    console.log(`\nsoak: wrote ${files.md}\n      ${files.json}`);
    if (checks.some((c) => !c.ok)) process.exitCode = 1;
  } finally {
    faults?.stop();
    await xgate.child.stop(5000);
    await emulator.close();
  }
}

main().catch((error: unknown) => {
  console.error(`soak: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exit(1);
});
