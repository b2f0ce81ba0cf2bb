/**
 * Runs the proxy CLI as a user would — a child process given a config file — and finds its URL in the
 * startup banner. Everything it prints is kept, so tests can assert on log lines and on what must never
 * appear in them.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const CLI = fileURLToPath(new URL("../../src/proxy/cli.ts", import.meta.url));
/** tsx's loader by path: the CLI runs in its config's folder, where no node_modules are. */
const TSX = import.meta.resolve("tsx");

export interface ProxyProcess {
  url: string;
  /** `url` + "/v1", what OpenAI clients take as their base URL. */
  baseUrl: string;
  child: ChildProcess;
  output(): { stdout: string; stderr: string };
  /**
   * Sends the signal and resolves with the exit code; the proxy's folder (its config, its ./xgate-data) is
   * removed unless `keepDir`, so that a test can start it again on what it left (see `dir`).
   */
  stop(signal?: NodeJS.Signals, options?: { keepDir?: boolean }): Promise<number | null>;
  configPath: string;
  /** The folder it runs in: its config and its ./xgate-data. */
  dir: string;
}

/** The proxy's `/health` report, as a test reads it. */
export interface HealthBody {
  healthy_count: number;
  unhealthy_count: number;
  healthy_endpoints: { deployment_id: string; model_name: string }[];
  unhealthy_endpoints: { deployment_id: string; error?: string }[];
}

export async function fetchHealth(proxy: ProxyProcess, key: string): Promise<HealthBody> {
  const res = await fetch(`${proxy.url}/health`, { headers: { authorization: `Bearer ${key}` } });
  return (await res.json()) as HealthBody;
}

export interface RunCliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

async function writeConfig(yaml: string, existingDir?: string): Promise<{ dir: string; path: string }> {
  const dir = existingDir ?? (await mkdtemp(join(tmpdir(), "xgate-cli-test-")));
  const path = join(dir, "config.yaml");
  await writeFile(path, yaml);
  return { dir, path };
}

/**
 * In `cwd`, the config's own folder by default: what the proxy writes relative to where it runs (its data
 * directory, `./xgate-data`) goes there, not into the checkout.
 */
function spawnCli(args: string[], env: NodeJS.ProcessEnv, cwd: string | undefined): ChildProcess {
  return spawn(process.execPath, ["--import", TSX, CLI, ...args], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
    ...(cwd !== undefined && { cwd }),
  });
}

/** Runs the CLI to completion (for --help, --check, bad configs). */
export async function runCli(args: string[], options: { config?: string; env?: NodeJS.ProcessEnv } = {}): Promise<RunCliResult> {
  const written = options.config === undefined ? undefined : await writeConfig(options.config);
  const child = spawnCli(written ? [...args, "--config", written.path] : args, options.env ?? {}, written?.dir);
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on("exit", (c) => resolve(c)));
  if (written) await rm(written.dir, { recursive: true, force: true });
  return { code, stdout, stderr };
}

/** Starts the proxy on a free port and waits until its banner names its URL. */
export async function startProxyProcess(
  configYaml: string,
  options: { env?: NodeJS.ProcessEnv; args?: string[]; /** Run in this folder (one a stopped proxy kept). */ dir?: string } = {},
): Promise<ProxyProcess> {
  const { dir, path } = await writeConfig(configYaml, options.dir);
  const child = spawnCli(["--config", path, "--host", "127.0.0.1", "--port", "0", ...(options.args ?? [])], options.env ?? {}, dir);
  let stdout = "";
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = /listening on (http:\/\/[^\s]+)/.exec(stdout);
      if (match) resolve(match[1]!);
    });
    void exited.then((code) => reject(new Error(`proxy exited with ${code} before listening:\n${stdout}\n${stderr}`)));
  });
  return {
    url,
    baseUrl: `${url}/v1`,
    child,
    configPath: path,
    dir,
    output: () => ({ stdout, stderr }),
    async stop(signal = "SIGTERM", stopOptions = {}) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const code = await exited;
      if (stopOptions.keepDir !== true) await rm(dir, { recursive: true, force: true });
      return code;
    },
  };
}
