// `npx tsx bench/stream-memory.ts [--streams 1000] [--tokens 600] [--token-delay-ms 100] [--snapshot] [--floor]
//   [--xgate dist|src|PATH-to-cli.js] [--node-arg=--flag]...`
//
// What xgate holds per open chat stream: a fresh xgate (spawned with --expose-gc and a small probe) in front
// of an emulator that paces its tokens, N slow SSE chat streams opened together by this process. Reported:
// xgate's RSS idle and with the streams open (peak over the window and steady), and, from the probe, V8's
// heap before and after a full GC — so that live memory per stream is told apart from garbage not yet
// collected and from memory outside the JS heap. With --snapshot, heap snapshots idle and open, and the
// constructors that grew between them (count and bytes per stream). xgate's memoryUsage() every 250 ms goes to
// timeline.jsonl in the scratch folder; with STREAM_MEMORY_SNAPSHOT_AT=<bytes> in the environment, a snapshot is
// also written the first time its RSS passes that (to catch a spike). bench/lib/heap-snapshot.ts reads them.
import { request, Agent } from "node:http";
import { mkdirSync, mkdtempSync, readFileSync, existsSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { freePort, spawnChild, stopAll, waitUntilReady, type Child } from "./lib/processes.js";
import { RssSampler, rssBytes, toMB } from "./lib/rss.js";
import { MASTER_KEY, startEmulator } from "./lib/servers.js";
import { growth, summarise } from "./lib/heap-snapshot.js";

const LLM_UID = "qwen2.5-instruct";
const MB = 1024 * 1024;

/**
 * The floor, with --floor: node:http and undici piping the upstream's SSE body through untouched, nothing a
 * gateway adds. What one Node hop holds per open stream, to judge xgate's figure against.
 */
const FLOOR = `
import { createServer } from "node:http";
import { Agent, request } from "undici";
const agent = new Agent({ headersTimeout: 0, bodyTimeout: 0 });
const upstream = new URL(process.env.FLOOR_UPSTREAM);
createServer((req, res) => {
  if (req.url.startsWith("/health")) return res.end("ok");
  const parts = [];
  req.on("data", (c) => parts.push(c));
  req.on("end", async () => {
    const answer = await request(new URL("/v1" + req.url.slice(3), upstream.origin), { method: "POST", headers: { "content-type": "application/json" }, body: Buffer.concat(parts), dispatcher: agent });
    res.writeHead(answer.statusCode, { "content-type": "text/event-stream" });
    answer.body.pipe(res);
  });
}).listen(Number(process.env.FLOOR_PORT), "127.0.0.1");
`;

/** Loaded into xgate with --import: on SIGUSR2 it writes its memory figures (and a snapshot if asked) to a file. */
const PROBE = `
import { writeFileSync, renameSync } from "node:fs";
import v8 from "node:v8";
if (process.env.STREAM_MEMORY_TIMELINE !== undefined) {
  const { appendFileSync } = await import("node:fs");
  let snapped = false;
  setInterval(() => {
    const m = process.memoryUsage();
    if (!snapped && process.env.STREAM_MEMORY_SNAPSHOT_AT !== undefined && m.rss > Number(process.env.STREAM_MEMORY_SNAPSHOT_AT)) {
      snapped = true;
      v8.writeHeapSnapshot(process.env.STREAM_MEMORY_TIMELINE + ".spike.heapsnapshot");
    }
    appendFileSync(process.env.STREAM_MEMORY_TIMELINE, JSON.stringify({ at: Date.now(), rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers }) + "\\n");
  }, 250).unref();
}
process.on("SIGUSR2", () => {
  const out = process.env.STREAM_MEMORY_OUT;
  const before = process.memoryUsage();
  globalThis.gc();
  const after = process.memoryUsage();
  const spaces = v8.getHeapSpaceStatistics().map((s) => ({ name: s.space_name, used: s.space_used_size, size: s.space_size }));
  const snapshot = process.env.STREAM_MEMORY_SNAPSHOT === "1" ? v8.writeHeapSnapshot(out + "." + Date.now() + ".heapsnapshot") : undefined;
  writeFileSync(out + ".tmp", JSON.stringify({ before, after, spaces, snapshot }));
  renameSync(out + ".tmp", out);
});
`;

interface Probe {
  before: NodeJS.MemoryUsage;
  after: NodeJS.MemoryUsage;
  spaces: { name: string; used: number; size: number }[];
  snapshot?: string;
}

const { values } = parseArgs({
  options: {
    streams: { type: "string", default: "1000" },
    tokens: { type: "string", default: "600" },
    "token-delay-ms": { type: "string", default: "100" },
    "settle-ms": { type: "string", default: "3000" },
    xgate: { type: "string", default: "dist" },
    snapshot: { type: "boolean", default: false },
    floor: { type: "boolean", default: false },
    "node-arg": { type: "string", multiple: true, default: [] },
  },
});
const streams = Number(values.streams);
const tokens = Number(values.tokens);
const root = resolve(import.meta.dirname, "..");
const scratch = mkdtempSync(join(tmpdir(), "stream-memory-"));
const logDir = join(scratch, "logs");
mkdirSync(logDir);

async function startProbedXgate(emulatorBaseUrl: string): Promise<{ child: Child; url: string; out: string }> {
  const port = await freePort();
  const configPath = join(scratch, "config.yaml");
  writeFileSync(
    configPath,
    `model_list:\n  - model_name: ${LLM_UID}\n    litellm_params: { model: xinference/${LLM_UID}, api_base: "${emulatorBaseUrl}" }\n` +
      `general_settings: { master_key: ${MASTER_KEY} }\n`,
  );
  const probePath = join(scratch, "probe.mjs");
  writeFileSync(probePath, PROBE);
  const out = join(scratch, "probe.json");
  const floorPath = join(scratch, "floor.mjs");
  // Written outside the checkout: undici is named by its path.
  writeFileSync(floorPath, FLOOR.replace('"undici"', JSON.stringify(pathToFileURL(join(root, "node_modules/undici/index.js")).href)));
  const cli = values.floor ? [floorPath] : values.xgate === "src"
      ? ["--import", "tsx", join(root, "src/proxy/cli.ts")]
      : [values.xgate === "dist" ? join(root, "dist/proxy/cli.js") : resolve(values.xgate)];
  const cwd = join(scratch, "xgate");
  mkdirSync(cwd);
  const child = spawnChild("xgate", process.execPath, ["--expose-gc", ...values["node-arg"], "--import", probePath, ...cli, "--config", configPath, "--host", "127.0.0.1", "--port", String(port)], {
    cwd,
    logDir,
    env: { STREAM_MEMORY_TIMELINE: join(scratch, "timeline.jsonl"), FLOOR_PORT: String(port), FLOOR_UPSTREAM: emulatorBaseUrl, STREAM_MEMORY_OUT: out, STREAM_MEMORY_SNAPSHOT: values.snapshot ? "1" : "0" },
  });
  const url = `http://127.0.0.1:${port}`;
  await waitUntilReady(child, `${url}/health/liveliness`);
  return { child, url, out };
}

async function probe(child: Child, out: string): Promise<Probe> {
  if (existsSync(out)) writeFileSync(out, "");
  child.process.kill("SIGUSR2");
  for (;;) {
    await sleep(100);
    const text = existsSync(out) ? readFileSync(out, "utf8") : "";
    if (text !== "") {
      writeFileSync(out, "");
      return JSON.parse(text) as Probe;
    }
  }
}

interface StreamState {
  firstEvent: Promise<void>;
  done: Promise<{ events: number; status: number }>;
}

/** One chat stream, read as fast as it comes; resolves `firstEvent` at its first `data:`. */
function openStream(url: string, agent: Agent): StreamState {
  let onFirst: () => void = () => undefined;
  const firstEvent = new Promise<void>((r) => (onFirst = r));
  const body = JSON.stringify({ model: LLM_UID, messages: [{ role: "user", content: "Tell me a long story about gateways." }], stream: true, max_tokens: tokens, ignore_eos: true });
  const done = new Promise<{ events: number; status: number }>((resolveDone, reject) => {
    const req = request(`${url}/v1/chat/completions`, { method: "POST", agent, headers: { authorization: `Bearer ${MASTER_KEY}`, "content-type": "application/json" } }, (res) => {
      let events = 0;
      res.setEncoding("utf8");
      res.on("data", (text: string) => {
        const n = text.split("data:").length - 1;
        if (events === 0 && n > 0) onFirst();
        events += n;
      });
      res.on("end", () => {
        onFirst();
        resolveDone({ events, status: res.statusCode ?? 0 });
      });
      res.on("error", reject);
    });
    req.on("error", (error) => {
      onFirst();
      reject(error);
    });
    req.end(body);
  });
  return { firstEvent, done };
}

/** User + system CPU of a process so far, from /proc/<pid>/stat (clock ticks of 10 ms). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "latin1").split(") ")[1]?.split(" ") ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function heapLine(label: string, p: Probe): string {
  const f = (n: number): string => (n / MB).toFixed(1);
  return `${label}: rss ${f(p.before.rss)} MB; heapUsed ${f(p.before.heapUsed)} → ${f(p.after.heapUsed)} MB after gc (heapTotal ${f(p.after.heapTotal)}), external ${f(p.after.external)} MB (arrayBuffers ${f(p.after.arrayBuffers)}), rss after gc ${f(p.after.rss)} MB`;
}

async function main(): Promise<void> {
  const children: Child[] = [];
  try {
    const emulator = await startEmulator({ root, scratchDir: scratch, logDir }, { name: "emulator", tokenDelayMs: Number(values["token-delay-ms"]) });
    children.push(emulator.child);
    const xgate = await startProbedXgate(emulator.baseUrl);
    children.push(xgate.child);
    const agent = new Agent({ keepAlive: true, maxSockets: Infinity });
    console.log(`xgate pid ${xgate.child.pid}; ${streams} streams of ${tokens} tokens, ${values["token-delay-ms"]} ms apart; logs in ${logDir}`);

    const idleRss = rssBytes(xgate.child.pid);
    const idle = await probe(xgate.child, xgate.out);
    console.log(`idle rss (fresh, as S8 measures it) ${toMB(idleRss)} MB`);
    console.log(heapLine("idle", idle));

    const sampler = new RssSampler(xgate.child.pid);
    const opened = Array.from({ length: streams }, () => openStream(xgate.url, agent));
    await Promise.all(opened.map((s) => s.firstEvent));
    const allOpenRss = rssBytes(xgate.child.pid);
    await sleep(Number(values["settle-ms"]));
    const steadyRss = rssBytes(xgate.child.pid);
    const open = await probe(xgate.child, xgate.out);
    const afterGcRss = rssBytes(xgate.child.pid);
    const peak = sampler.stop().peakBytes;
    console.log(`open: all ${streams} streaming at rss ${toMB(allOpenRss)} MB; after ${values["settle-ms"]} ms ${toMB(steadyRss)} MB; peak so far ${toMB(peak)} MB`);
    console.log(heapLine("open", open));
    const per = (a: number, b: number): string => `${((a - b) / streams / 1024).toFixed(1)} KB`;
    console.log(
      `per stream: peak rss ${per(peak, idleRss)}, steady rss ${per(steadyRss, idleRss)}, live heap ${per(open.after.heapUsed, idle.after.heapUsed)}, ` +
        `external ${per(open.after.external, idle.after.external)}, rss after gc ${per(afterGcRss, idleRss)}`,
    );
    for (const s of open.spaces) {
      const before = idle.spaces.find((i) => i.name === s.name);
      if (s.size > 0) console.log(`  ${s.name.padEnd(24)} used ${(s.used / MB).toFixed(1)} MB (idle ${((before?.used ?? 0) / MB).toFixed(1)}), size ${(s.size / MB).toFixed(1)} MB (idle ${((before?.size ?? 0) / MB).toFixed(1)})`);
    }
    if (idle.snapshot !== undefined && open.snapshot !== undefined) {
      console.log(`\nheap growth by constructor (snapshots ${idle.snapshot}, ${open.snapshot}):`);
      const rows = growth(summarise(idle.snapshot), summarise(open.snapshot)).slice(0, 40);
      for (const r of rows) {
        console.log(`  ${(r.bytes / streams).toFixed(0).padStart(7)} B ${(r.count / streams).toFixed(2).padStart(7)} obj  per stream  ${r.name}`);
      }
    }
    const results = await Promise.allSettled(opened.map((s) => s.done));
    const ok = results.filter((r) => r.status === "fulfilled" && r.value.status === 200 && r.value.events >= tokens).length;
    console.log(`xgate CPU ${cpuSeconds(xgate.child.pid).toFixed(1)} s in all`);
    console.log(`${ok} of ${streams} streams complete; final peak rss ${toMB(Math.max(peak, rssBytes(xgate.child.pid)))} MB`);
    agent.destroy();
  } finally {
    await stopAll(children);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
