// `npm run bench`: starts the Xinference emulator (zero compute delay), xgate, Portkey's gateway and a bare Node
// pass-through, each in its own process on 127.0.0.1, drives them from a separate load-generator process, judges
// xgate on its targets, and writes bench/results/<date>.{json,md,svg}. Every phase is bounded in time.
import { existsSync, mkdirSync, rmSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { dataOf, jsonRequest, preflight } from "./lib/load.js";
import { stopAll } from "./lib/processes.js";
import type { Child } from "./lib/processes.js";
import { gitRevision, machine, packageVersion, printSummary, writeReport } from "./lib/report.js";
import type { Report } from "./lib/report.js";
import { rssBytes, toMB } from "./lib/rss.js";
import { runS4, runS5 } from "./lib/scenarios/images.js";
import { EMBEDDING_PATH, oneInputBody, runS1 } from "./lib/scenarios/s1-latency.js";
import { runS2 } from "./lib/scenarios/s2-throughput.js";
import { runS3 } from "./lib/scenarios/s3-batch.js";
import { runS6 } from "./lib/scenarios/s6-workers.js";
import { runS7 } from "./lib/scenarios/s7-cache.js";
import { runS8 } from "./lib/scenarios/s8-streams.js";
import { runS9 } from "./lib/scenarios/s9-keys.js";
import { directTarget, startEmulator, startFloor, startPortkey, startXgate, xgateCommand } from "./lib/servers.js";
import type { XgateBuild } from "./lib/servers.js";
import { SCENARIO_IDS, TARGET_IDS } from "./lib/types.js";
import type { BenchContext, Durations, ScenarioId, ScenarioResult, Target, TargetId, XgateLaunch } from "./lib/types.js";
import { wrkVersion } from "./lib/wrk.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

const USAGE = `Usage: npm run bench -- [options]

  --out DIR            where <date>.json/.md/.svg go (default bench/results)
  --scenarios LIST     e.g. S1,S3 (default: all of S1..S9)
  --targets LIST       e.g. direct,portkey (default: direct,floor,xgate,portkey; xgate is skipped if it cannot
                       start; floor, a bare Node pass-through, runs in S1 and S2 only)
  --xgate auto|dist|src|PATH  run dist/proxy/cli.js, src/proxy/cli.ts via tsx (auto: dist unless older
                       than src/), or another build's CLI at PATH (e.g. a worktree of an older commit)
  --s2-tool auto|wrk|autocannon  load generator for S2 and S6 (auto: wrk when installed)
  --profile            run xgate with --cpu-prof; the profile lands in bench/scratch/last-run/profiles/
                       (profiling slows xgate down: its figures are then not comparable)
  --quick              short rounds, for trying the harness (figures are not worth keeping)
  --help`;

const FULL: Durations = {
  s1Rounds: 6,
  s1RoundS: 2,
  s2Rounds: 2,
  s2DurationS: 10,
  s3Rounds: 6,
  s3LargeRounds: 2,
  s4DurationS: 8,
  s5DurationS: 6,
  s6Rounds: 2,
  s6DurationS: 8,
  s7Rounds: 6,
  s7DurationS: 6,
  s8Rounds: 2,
  s8DurationS: 8,
  s9Rounds: 8,
  s9DurationS: 4,
  warmupS: 2,
};
const QUICK: Durations = {
  s1Rounds: 2,
  s1RoundS: 1,
  s2Rounds: 1,
  s2DurationS: 3,
  s3Rounds: 2,
  s3LargeRounds: 1,
  s4DurationS: 2,
  s5DurationS: 2,
  s6Rounds: 1,
  s6DurationS: 3,
  s7Rounds: 2,
  s7DurationS: 2,
  s8Rounds: 1,
  s8DurationS: 3,
  s9Rounds: 2,
  s9DurationS: 2,
  warmupS: 1,
};

function list<T extends string>(value: string | undefined, allowed: readonly T[], name: string): T[] {
  if (value === undefined) return [...allowed];
  const items = value.split(",").map((s) => s.trim()).filter(Boolean);
  for (const item of items) {
    if (!(allowed as readonly string[]).includes(item)) throw new Error(`--${name}: unknown "${item}" (one of ${allowed.join(", ")})`);
  }
  return items as T[];
}

function options() {
  const { values } = parseArgs({
    options: {
      out: { type: "string" },
      scenarios: { type: "string" },
      targets: { type: "string" },
      xgate: { type: "string", default: "auto" },
      "s2-tool": { type: "string", default: "auto" },
      quick: { type: "boolean", default: false },
      profile: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const xgate: XgateBuild = values.xgate;
  const s2Tool = values["s2-tool"];
  if (!["auto", "wrk", "autocannon"].includes(s2Tool)) throw new Error(`--s2-tool must be auto, wrk or autocannon`);
  return {
    outDir: resolve(values.out ?? join(ROOT, "bench", "results")),
    scenarios: list(values.scenarios?.toUpperCase(), SCENARIO_IDS, "scenarios"),
    targets: list(values.targets, TARGET_IDS, "targets"),
    targetsExplicit: values.targets !== undefined,
    xgate,
    s2Tool: s2Tool as "auto" | "wrk" | "autocannon",
    quick: values.quick,
    profile: values.profile,
  };
}

async function main(): Promise<void> {
  const opts = options();
  const startedAt = new Date();
  const scratchDir = join(ROOT, "bench", "scratch", "last-run");
  const logDir = join(scratchDir, "logs");
  rmSync(scratchDir, { recursive: true, force: true });
  mkdirSync(logDir, { recursive: true });
  const where = { root: ROOT, scratchDir, logDir };

  const wrk = wrkVersion();
  let s2Tool: "wrk" | "autocannon" = opts.s2Tool === "auto" ? (wrk ? "wrk" : "autocannon") : opts.s2Tool;
  if (s2Tool === "wrk" && wrk === undefined) throw new Error("--s2-tool wrk: wrk is not installed (apt-get install wrk)");
  if (!wrk && (opts.scenarios.includes("S2") || opts.scenarios.includes("S6"))) {
    console.warn("bench: wrk is not installed; S2 and S6 fall back to autocannon (apt-get install wrk for the real figures)");
    s2Tool = "autocannon";
  }

  const servers: Child[] = [];
  const targetNotes: Record<TargetId, string> = { direct: "not run", floor: "not run", xgate: "not run", portkey: "not run" };
  try {
    console.log(`bench: logs and scratch files in ${scratchDir}`);
    const emulator = await startEmulator(where);
    servers.push(emulator.child);
    const targets: Target[] = [];
    /** How to start each gateway again: see freshGateways below. */
    const starters = new Map<TargetId, () => Promise<Target>>();
    let xgateLaunch: XgateLaunch | undefined;
    if (opts.targets.includes("direct")) {
      targets.push(directTarget(emulator));
      targetNotes.direct = "the Xinference emulator (test/support/emulator), compute delay 0";
    }
    if (opts.targets.includes("xgate")) {
      const command = xgateCommand(ROOT, opts.xgate);
      try {
        if ("missing" in command) throw new Error(command.missing);
        const launch: XgateLaunch = {
          cliArgs: command.args,
          nodeArgs: opts.profile ? ["--cpu-prof", `--cpu-prof-dir=${join(scratchDir, "profiles")}`] : [],
        };
        starters.set("xgate", () => startXgate(where, emulator.baseUrl, launch));
        const xgate = await startXgate(where, emulator.baseUrl, launch);
        xgateLaunch = launch;
        servers.push(xgate.child);
        targets.push(xgate);
        targetNotes.xgate =
          command.from === "dist"
            ? "node dist/proxy/cli.js (the build), one worker"
            : command.from === "src"
              ? "node --import tsx src/proxy/cli.ts, one worker"
              : `node ${command.args.join(" ")}`;
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        if (opts.targetsExplicit) throw error;
        console.warn(`bench: xgate left out: ${reason}`);
        targetNotes.xgate = `not run: ${reason}`;
      }
    }
    if (opts.targets.includes("portkey")) {
      starters.set("portkey", () => startPortkey(where, emulator.baseUrl));
      const portkey = await startPortkey(where, emulator.baseUrl);
      servers.push(portkey.child);
      targets.push(portkey);
      targetNotes.portkey = `@portkey-ai/gateway ${packageVersion(ROOT, "@portkey-ai/gateway")} (--headless, provider openai, custom host)`;
    }
    // The floor passes bytes through: it serves S1 and S2, where the question is what one hop costs.
    const floor = opts.targets.includes("floor") ? await startFloor(where, emulator.baseUrl) : undefined;
    if (floor !== undefined) {
      servers.push(floor.child);
      targetNotes.floor = "a bare node:http + undici pass-through (bench/lib/floor-server.ts), S1 and S2 only";
    }
    // Every target with a server, in the order reports show them. A function: restarts replace gateways in `targets`.
    const served = (): Target[] =>
      (floor === undefined ? [...targets] : [...targets, floor]).sort((a, b) => TARGET_IDS.indexOf(a.id) - TARGET_IDS.indexOf(b.id));
    for (const t of served()) {
      console.log(`bench: ${t.id} at ${t.baseUrl} (pid ${t.child.pid}, ${toMB(rssBytes(t.child.pid))} MB RSS idle)`);
    }

    // The one-input embedding of S1/S2 must work on a target before it is loaded.
    const embeddingIds = new Set<TargetId>();
    const embeddingNotes: string[] = [];
    for (const t of served()) {
      const verdict = await preflight(jsonRequest(t, EMBEDDING_PATH, oneInputBody(t), "preflight"), (json) => {
        const first = (dataOf(json)?.[0] as { embedding?: unknown } | undefined)?.embedding;
        return Array.isArray(first) && first.length === 768 ? { ok: true } : { ok: false, reason: "expected 768 floats" };
      });
      if (verdict.ok) embeddingIds.add(t.id);
      else embeddingNotes.push(`${t.id} left out: ${verdict.reason}`);
    }

    /**
     * Each gateway in a new process, in its place in `targets`. Before a scenario that reports peak RSS
     * (S3–S5) and before each of S3's windows, so that the peak is that window's own: after S3's 43 MB answers,
     * a gateway keeps ~100 MB of garbage buffers (V8 collects them only when something allocates again) and
     * glibc keeps freed memory, which would otherwise be charged to the next window.
     */
    const freshGateways = async (): Promise<void> => {
      for (let i = 0; i < targets.length; i++) {
        const old = targets[i] as Target;
        const start = starters.get(old.id);
        if (start === undefined) continue;
        await old.child.stop(15_000);
        const fresh = await start();
        servers.push(fresh.child);
        targets[i] = fresh;
        console.log(`bench: ${fresh.id} restarted (pid ${fresh.child.pid}, ${toMB(rssBytes(fresh.child.pid))} MB RSS idle)`);
      }
    };
    const ctx: BenchContext = {
      root: ROOT,
      scratchDir,
      logDir,
      targets,
      emulator: emulator.child,
      emulatorBaseUrl: emulator.baseUrl,
      durations: opts.quick ? QUICK : FULL,
      s2Tool,
      xgate: xgateLaunch,
      freshGateways,
    };
    const scenarios: ScenarioResult[] = [];
    const runners: Record<ScenarioId, () => Promise<ScenarioResult>> = {
      S1: () => runS1(ctx, served().filter((t) => embeddingIds.has(t.id))),
      S2: () => runS2(ctx, served().filter((t) => embeddingIds.has(t.id))),
      S3: () => runS3(ctx, () => targets),
      S4: () => runS4(ctx, targets),
      S5: () => runS5(ctx, targets),
      S6: () => runS6(ctx),
      S7: () => runS7(ctx),
      S8: () => runS8(ctx),
      S9: () => runS9(ctx),
    };
    let failed = false;
    for (const [n, id] of opts.scenarios.entries()) {
      const t0 = Date.now();
      if (n > 0 && (id === "S3" || id === "S4" || id === "S5")) await freshGateways();
      console.log(`bench: ${id}…`);
      try {
        const result = await runners[id]();
        if (id === "S1" || id === "S2") result.notes.unshift(...embeddingNotes);
        scenarios.push(result);
        console.log(`bench: ${id} done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
        for (const note of result.notes) console.log(`        note: ${note}`);
      } catch (error) {
        failed = true;
        const message = error instanceof Error ? error.message : String(error);
        console.error(`bench: ${id} failed: ${message}`);
        scenarios.push({ id, title: "failed", method: "", rows: [], checks: [], notes: [`failed: ${message}`], details: {} });
      }
      for (const t of served()) {
        if (t.child.process.exitCode !== null || t.child.process.signalCode !== null) {
          throw new Error(`${t.id} died during ${id}; see ${t.child.logPath}`);
        }
      }
    }

    const report: Report = {
      date: startedAt.toISOString().slice(0, 10),
      startedAt: startedAt.toISOString(),
      durationS: (Date.now() - startedAt.getTime()) / 1000,
      machine: machine(),
      revision: gitRevision(ROOT),
      tools: {
        autocannon: packageVersion(ROOT, "autocannon"),
        ...(s2Tool === "wrk" && wrk !== undefined ? { wrk } : {}),
        "S2 load generator": s2Tool,
      },
      targets: targetNotes,
      scenarios,
      checks: scenarios.flatMap((s) => s.checks),
    };
    const files = writeReport(opts.outDir, report);
    printSummary(report);
    console.log(`\nbench: wrote ${files.json}\n       ${files.md}\n       ${files.svg}`);
    if (opts.profile) console.log(`bench: xgate's CPU profile goes to ${join(scratchDir, "profiles")} as it exits`);
    if (failed) process.exitCode = 1;
  } finally {
    await stopAll(servers);
  }
}

if (!existsSync(join(ROOT, "node_modules"))) {
  console.error("bench: run npm ci first");
  process.exit(1);
}
main().catch((error: unknown) => {
  console.error(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exit(1);
});
