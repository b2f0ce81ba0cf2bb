// Child processes of a benchmark run: every server and load generator runs in its own process, logs to a file
// under the scratch folder, and is killed when the run ends — normally, on an error, or on Ctrl-C.
import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";
import { createServer, request } from "node:http";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

const children = new Set<ChildProcess>();
let handlersInstalled = false;

function killAll(signal: NodeJS.Signals): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  }
}

function installHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  // "exit" handlers must be synchronous: SIGKILL leaves nothing running whatever state the child is in.
  process.on("exit", () => killAll("SIGKILL"));
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.once(signal, () => {
      console.error(`\nbench: ${signal}, stopping every child process`);
      killAll("SIGTERM");
      process.exit(130);
    });
  }
}

export interface Child {
  name: string;
  process: ChildProcess;
  pid: number;
  logPath: string;
  /** Resolves with the exit code (or the signal's name) once the process has exited. */
  exited: Promise<number | string>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it has exited. */
  stop(graceMs?: number): Promise<void>;
}

export interface SpawnOptions {
  cwd: string;
  logDir: string;
  env?: NodeJS.ProcessEnv;
}

/**
 * Starts a process whose stdout and stderr go to `<logDir>/<name>.log` (a file: no pipe for us to drain).
 * Appended to: a server restarted within a run keeps its earlier log.
 */
export function spawnChild(name: string, command: string, args: string[], options: SpawnOptions): Child {
  installHandlers();
  const logPath = join(options.logDir, `${name}.log`);
  const fd = openSync(logPath, "a");
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ["ignore", fd, fd],
  });
  closeSync(fd);
  if (child.pid === undefined) throw new Error(`could not start ${name}: ${command} ${args.join(" ")}`);
  children.add(child);
  const exited = new Promise<number | string>((resolve) => {
    child.once("exit", (code, signal) => {
      children.delete(child);
      resolve(code ?? signal ?? "unknown");
    });
    child.once("error", (error) => {
      children.delete(child);
      resolve(error.message);
    });
  });
  return {
    name,
    process: child,
    pid: child.pid,
    logPath,
    exited,
    async stop(graceMs = 3000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** A port nobody listens on now (the OS picks it; a small race with other programs remains). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => {
        if (address === null || typeof address === "string") reject(new Error("no port"));
        else resolve(address.port);
      });
    });
  });
}

/** Status of one GET, or undefined when nothing answers. */
function probe(url: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    const req = request(url, { method: "GET", timeout: 1000, agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.once("timeout", () => req.destroy());
    req.once("error", () => resolve(undefined));
    req.end();
  });
}

/**
 * Polls `url` until it answers with a status accepted by `ready`; fails early if the child exits, and after
 * `timeoutMs`.
 */
export async function waitUntilReady(
  child: Child,
  url: string,
  ready: (status: number) => boolean = (status) => status < 500,
  timeoutMs = 30_000,
): Promise<void> {
  let exit: number | string | undefined;
  void child.exited.then((code) => (exit = code));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exit !== undefined) throw new Error(`${child.name} exited (${exit}) before it was ready; see ${child.logPath}`);
    const status = await probe(url);
    if (status !== undefined && ready(status)) return;
    await sleep(100);
  }
  throw new Error(`${child.name} was not ready at ${url} within ${timeoutMs} ms; see ${child.logPath}`);
}

/**
 * Polls the child's log, from byte `fromByte` on (a log is appended to across restarts), until it holds `text`;
 * fails early if the child exits, and after `timeoutMs`.
 */
export async function waitForLog(child: Child, text: string, fromByte: number, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.process.exitCode !== null || child.process.signalCode !== null) {
      throw new Error(`${child.name} exited before it logged "${text}"; see ${child.logPath}`);
    }
    if (readFileSync(child.logPath).subarray(fromByte).includes(text)) return;
    await sleep(100);
  }
  throw new Error(`${child.name} did not log "${text}" within ${timeoutMs} ms; see ${child.logPath}`);
}

/** Stops every child still running (servers at the end of a run). */
export async function stopAll(children: Child[]): Promise<void> {
  // A generous grace: a process started with --cpu-prof writes its profile as it exits.
  await Promise.all(children.map((child) => child.stop(15_000)));
}
