#!/usr/bin/env node
/**
 * The proxy's command line: `xgate --config config.yaml [--host] [--port] [--num_workers] [--check] [--strict]`.
 * Prints one banner on start, stops gracefully on SIGTERM/SIGINT or when the process that started it is
 * gone (exiting 0), and exits 1 with a clear message on a bad config.
 */
import cluster from "node:cluster";
import { readFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { parseArgs } from "node:util";
import { startProxy, type RunningProxy } from "./server.js";
import { banner, deploymentLines } from "./banner.js";
import { ConfigError, loadConfig, type ProxyConfig } from "./config/index.js";
import { drainingText, watchParent } from "./lifecycle.js";
import { chooseHost, isLoopback, type ListenHost } from "./listen-address.js";
import { resolveSettings, SettingsError } from "./settings.js";
import { serveClusterMetrics } from "./telemetry/metrics-scrape.js";

const USAGE = `Usage: xgate --config config.yaml [options]

An OpenAI-compatible gateway for Xinference that reads LiteLLM's config.yaml.

Options:
  --config PATH        the LiteLLM-format config file (required)
  --host HOST          address to listen on (env HOST; default 0.0.0.0 with a master key,
                       127.0.0.1 without one)
  --port PORT          port to listen on (env PORT; default 4000)
  --num_workers N      run N worker processes on the one port (default 1)
  --check              validate the config, print what it serves and where it sends requests, and exit
  --strict             refuse model_list entries of providers xgate does not serve, instead of
                       skipping them with a warning
  --detailed_debug     log at debug level
  --version            print the version
  --help               print this help`;

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
  return pkg.version;
}

function fail(message: string, code = 1): never {
  console.error(message);
  process.exit(code);
}

function parseCli(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      strict: true,
      options: {
        config: { type: "string", short: "c" },
        host: { type: "string" },
        port: { type: "string" },
        num_workers: { type: "string" },
        check: { type: "boolean", default: false },
        strict: { type: "boolean", default: false },
        detailed_debug: { type: "boolean", default: false },
        version: { type: "boolean", short: "v", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    }).values;
  } catch (err) {
    return fail(`xgate: ${(err as Error).message}\n\n${USAGE}`, 2);
  }
}

function positiveInt(value: string, name: string, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > max) fail(`xgate: ${name} must be a whole number from 0 to ${max}, not '${value}'.`, 2);
  return n;
}

/** What the banner needs besides the config. */
interface Run {
  config: ProxyConfig;
  listen: ListenHost;
  workers: number;
}

async function main(): Promise<void> {
  const args = parseCli(process.argv.slice(2));
  if (args.help) {
    console.log(USAGE);
    return;
  }
  if (args.version) {
    console.log(version());
    return;
  }
  if (!args.config) fail(`xgate: --config is required.\n\n${USAGE}`, 2);
  const port = positiveInt(args.port ?? process.env.PORT ?? "4000", "--port", 65535);
  const workers = Math.max(1, positiveInt(args.num_workers ?? "1", "--num_workers", 256));

  let loaded;
  try {
    loaded = await loadConfig(args.config, { strict: args.strict });
  } catch (err) {
    if (err instanceof ConfigError) fail(`xgate: ${err.message}`);
    throw err;
  }
  // environment_variables in the config are for the whole process: the SDK reads XINFERENCE_* at call time.
  Object.assign(process.env, loaded.environment);
  const hasMasterKey = Boolean(loaded.config.general_settings.master_key ?? process.env.XGATE_MASTER_KEY);
  const run: Run = { config: loaded.config, listen: chooseHost(args.host ?? process.env.HOST, hasMasterKey), workers };
  if (cluster.isPrimary) {
    for (const warning of loaded.warnings) console.warn(`xgate: warning: ${warning}`);
    if (!hasMasterKey && !isLoopback(run.listen.host) && !args.check) {
      console.warn("xgate: WARNING: no master_key is set: the proxy is OPEN to anyone who can reach its port. Set general_settings.master_key (or XGATE_MASTER_KEY).");
    }
  }
  if (args.check) {
    resolveSettings(run.config, process.env); // what the environment adds is checked too
    const summary = banner(run.config, { address: undefined, host: run.listen.choice, workers, version: version() });
    console.log([`Config OK: ${args.config}`, summary, ...deploymentLines(run.config, process.env)].join("\n"));
    return;
  }

  if (workers > 1 && cluster.isPrimary) {
    runPrimary(run);
    return;
  }
  await runServer(run, port, args.detailed_debug ? "debug" : "info");
}

/** One proxy in this process: the only one, or one of the primary's workers. */
async function runServer(run: Run, port: number, logLevel: string): Promise<void> {
  const who = cluster.isPrimary ? "xgate" : `xgate: worker ${process.pid}`;
  const grace = run.config.general_settings.graceful_shutdown_seconds;
  // Handlers go in before the banner: a signal that arrives before them would kill the process outright.
  let proxy: RunningProxy | undefined;
  let inFlight = (): number => 0;
  let stopping = false;
  const stop = (cause: string): void => {
    if (stopping) return;
    stopping = true;
    if (!proxy) process.exit(0); // still starting: nothing is in flight
    console.error(`${who}: ${cause}: ${drainingText(inFlight(), grace)}`);
    proxy.close().then(
      () => {
        console.error(`${who}: stopped`);
        process.exit(0);
      },
      (err: unknown) => fail(`${who}: error while stopping (${cause}): ${(err as Error).message}`),
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM received, stopping"));
  process.on("SIGINT", () => stop("SIGINT received, stopping"));
  // A worker's parent is the primary, which watches its own parent and stops the workers.
  if (cluster.isPrimary) watchParent((parent) => stop(`${parentGone(parent)}, stopping as on SIGTERM`));

  try {
    // Of several workers, the first reports the health checks' findings; the others check alike and keep quiet.
    const reportsHealth = cluster.isPrimary || process.env[WORKER_INDEX] === "0";
    const workerIndex = cluster.isPrimary ? 0 : Number(process.env[WORKER_INDEX] ?? "0");
    proxy = await startProxy(run.config, { host: run.listen.host, port, logLevel, reportsHealth, workers: run.workers, workerIndex });
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === "EADDRINUSE") fail(`xgate: port ${port} is in use; choose another with --port.`);
    throw err;
  }
  inFlight = proxy.activeRequests;
  const address = proxy.app.server.address();
  if (cluster.isPrimary) console.log(banner(run.config, { address, host: run.listen.choice, workers: run.workers, version: version() }));
  else process.send?.({ type: "listening", address });
}

/** Set by the primary on each worker it forks: its place, 0 to N-1, which a replacement takes over. */
const WORKER_INDEX = "XGATE_WORKER_INDEX";

function parentGone(parent: number): string {
  return `the process that started xgate (pid ${parent}) is gone`;
}

/** The primary forks the workers, prints the banner once they listen, adds up their metrics, and passes stop signals on. */
function runPrimary(run: Run): void {
  const grace = run.config.general_settings.graceful_shutdown_seconds;
  let listening = 0;
  let stopping = false;
  const indexOf = new Map<number, string>();
  const fork = (index: string): void => {
    indexOf.set(cluster.fork({ [WORKER_INDEX]: index }).id, index);
  };
  cluster.on("message", (_worker, message: { type?: string; address?: AddressInfo | string | null }) => {
    if (message?.type === "listening" && ++listening === run.workers) {
      console.log(banner(run.config, { address: message.address ?? null, host: run.listen.choice, workers: run.workers, version: version() }));
    }
  });
  cluster.on("exit", (worker, code) => {
    if (!stopping && listening < run.workers) {
      // A worker that dies before it listens (a taken port, say) would die again: give up instead of looping.
      fail(`xgate: worker ${worker.process.pid} exited with code ${code} before listening`);
    } else if (!stopping) {
      console.error(`xgate: worker ${worker.process.pid} exited with code ${code}; starting another`);
      fork(indexOf.get(worker.id) ?? "0");
      indexOf.delete(worker.id);
    } else if (Object.keys(cluster.workers ?? {}).length === 0) {
      console.error("xgate: stopped");
      process.exit(0);
    }
  });
  const stop = (cause: string): void => {
    if (stopping) return;
    stopping = true;
    const alive = Object.values(cluster.workers ?? {});
    if (alive.length === 0) process.exit(0);
    console.error(`xgate: ${cause}: ${alive.length} workers are draining their in-flight requests, up to ${grace} s`);
    for (const worker of alive) worker?.process.kill("SIGTERM");
  };
  process.on("SIGTERM", () => stop("SIGTERM received, stopping"));
  process.on("SIGINT", () => stop("SIGINT received, stopping"));
  watchParent((parent) => stop(`${parentGone(parent)}, stopping as on SIGTERM`));
  // A worker's /metrics asks this process for the totals of all of them.
  serveClusterMetrics();
  for (let i = 0; i < run.workers; i++) fork(String(i));
}

main().catch((err: unknown) => fail(err instanceof SettingsError ? `xgate: ${err.message}` : `xgate: ${(err as Error).stack ?? String(err)}`));
