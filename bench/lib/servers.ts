// Starts the servers, each in its own process on a free port on 127.0.0.1, and describes them as targets.
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { type Child, freePort, spawnChild, waitForLog, waitUntilReady } from "./processes.js";
import type { Target, XgateLaunch } from "./types.js";

export const MASTER_KEY = "sk-bench";
const AUTH = { authorization: `Bearer ${MASTER_KEY}` };

/** Xinference model uids, as the emulator launches them by default. */
export const UIDS = {
  embedSmall: "bge-base-en",
  embedLarge: "bge-large-en-v1.5",
  image: "stabilityai/stable-diffusion-3.5-large",
} as const;

interface Where {
  root: string;
  scratchDir: string;
  logDir: string;
}

/** The emulator, by default without compute or token delay (S6 and S7 run theirs with delays, under their own names). */
export async function startEmulator(
  where: Where,
  options: { name?: string; computeDelayMs?: number; tokenDelayMs?: number } = {},
): Promise<{ child: Child; baseUrl: string }> {
  const port = await freePort();
  const cli = join(where.root, "test", "support", "emulator", "cli.ts");
  const delays = ["--compute-delay-ms", String(options.computeDelayMs ?? 0), "--token-delay-ms", String(options.tokenDelayMs ?? 0)];
  const child = spawnChild(
    options.name ?? "emulator",
    process.execPath,
    ["--import", "tsx", cli, "--host", "127.0.0.1", "--port", String(port), ...delays],
    { cwd: where.root, logDir: where.logDir },
  );
  const baseUrl = `http://127.0.0.1:${port}/v1`;
  await waitUntilReady(child, `${baseUrl}/models`, (status) => status === 200);
  return { child, baseUrl };
}

export function directTarget(emulator: { child: Child; baseUrl: string }): Target {
  // The same Authorization header as the gateways get (the emulator runs without auth and ignores it).
  return { id: "direct", baseUrl: emulator.baseUrl, headers: { ...AUTH }, models: { ...UIDS }, child: emulator.child };
}

export async function startPortkey(where: Where, emulatorBaseUrl: string): Promise<Target> {
  const port = await freePort();
  const bin = join(where.root, "node_modules", ".bin", "gateway");
  if (!existsSync(bin)) throw new Error(`${bin} is missing: run npm ci (it is a devDependency)`);
  const child = spawnChild("portkey", bin, [`--port=${port}`, "--headless"], { cwd: where.root, logDir: where.logDir });
  const url = `http://127.0.0.1:${port}`;
  await waitUntilReady(child, `${url}/`, (status) => status === 200);
  return {
    id: "portkey",
    baseUrl: `${url}/v1`,
    headers: { ...AUTH, "x-portkey-provider": "openai", "x-portkey-custom-host": emulatorBaseUrl },
    models: { ...UIDS },
    child,
  };
}

/** The bare pass-through (see floor-server.ts): the emulator's model uids, like direct. */
export async function startFloor(where: Where, emulatorBaseUrl: string): Promise<Target> {
  const port = await freePort();
  const script = join(where.root, "bench", "lib", "floor-server.ts");
  const child = spawnChild(
    "floor",
    process.execPath,
    ["--import", "tsx", script, "--port", String(port), "--upstream", emulatorBaseUrl],
    { cwd: where.root, logDir: where.logDir },
  );
  const baseUrl = `http://127.0.0.1:${port}/v1`;
  await waitUntilReady(child, `${baseUrl}/models`, (status) => status === 200);
  return { id: "floor", baseUrl, headers: { ...AUTH }, models: { ...UIDS }, child };
}

/** "auto", "dist", "src", or the path of another build's CLI (a .js file, or a .ts file run through tsx). */
export type XgateBuild = string;

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name.endsWith(".ts")) {
      newest = Math.max(newest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
    }
  }
  return newest;
}

/** tsx's loader by path: xgate runs in a scratch folder of its own, where no node_modules are. */
const TSX = import.meta.resolve("tsx");

/**
 * How to run xgate's CLI: the built `dist/proxy/cli.js` (what users run) unless it is missing or older than
 * the sources, then `src/proxy/cli.ts` through tsx — in one process either way, so that its RSS is xgate's.
 */
export function xgateCommand(root: string, build: XgateBuild): { args: string[]; from: string } | { missing: string } {
  const dist = join(root, "dist", "proxy", "cli.js");
  const src = join(root, "src", "proxy", "cli.ts");
  if (build !== "auto" && build !== "dist" && build !== "src") {
    const path = resolve(build);
    if (!existsSync(path)) return { missing: `${path} does not exist` };
    return { args: path.endsWith(".ts") ? ["--import", TSX, path] : [path], from: path };
  }
  const distUsable = existsSync(dist) && (build === "dist" || statSync(dist).mtimeMs >= newestMtime(join(root, "src")));
  if (build !== "src" && distUsable) return { args: [dist], from: "dist" };
  if (build === "dist") return { missing: `${dist} does not exist: run npm run build` };
  if (!existsSync(src)) return { missing: `${src} does not exist` };
  return { args: ["--import", TSX, src], from: "src" };
}

export function xgateConfig(emulatorBaseUrl: string): string {
  return `# Written by bench/run.ts for one benchmark run.
model_list:
  - model_name: ${UIDS.embedSmall}
    litellm_params: { model: xinference/${UIDS.embedSmall}, api_base: "${emulatorBaseUrl}" }
  - model_name: ${UIDS.embedLarge}
    litellm_params: { model: xinference/${UIDS.embedLarge}, api_base: "${emulatorBaseUrl}" }
  - model_name: sd3.5
    litellm_params: { model: xinference/${UIDS.image}, api_base: "${emulatorBaseUrl}" }
general_settings: { master_key: ${MASTER_KEY} }
`;
}

function logSize(logDir: string, name: string): number {
  const path = join(logDir, `${name}.log`);
  return existsSync(path) ? statSync(path).size : 0;
}

/**
 * xgate on a free port; `name` (default "xgate") names its log and config files; one worker by default.
 * `config` replaces the bench's config (the soak's has more models and short timeouts), `env` adds to its
 * environment (the soak's private TMPDIR).
 */
export async function startXgate(
  where: Where,
  emulatorBaseUrl: string,
  launch: XgateLaunch,
  options: { name?: string; workers?: number; config?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<Target> {
  const port = await freePort();
  const name = options.name ?? "xgate";
  const configPath = join(where.scratchDir, `${name}-config.yaml`);
  writeFileSync(configPath, options.config ?? xgateConfig(emulatorBaseUrl));
  const workers = options.workers === undefined ? [] : ["--num_workers", String(options.workers)];
  const logStart = logSize(where.logDir, name);
  // Its own folder: what it keeps relative to where it runs (the store and spend journal, ./xgate-data) is
  // then its own, apart from any other xgate of the run, and out of the checkout.
  const cwd = join(where.scratchDir, name);
  mkdirSync(cwd, { recursive: true });
  const child = spawnChild(
    name,
    process.execPath,
    [...launch.nodeArgs, ...launch.cliArgs, "--config", configPath, "--host", "127.0.0.1", "--port", String(port), ...workers],
    { cwd, logDir: where.logDir, env: options.env },
  );
  const url = `http://127.0.0.1:${port}`;
  await waitUntilReady(child, `${url}/health/liveliness`);
  // The first worker to listen answers the probe; the primary prints its banner once all of them listen.
  if (options.workers !== undefined && options.workers > 1) await waitForLog(child, `(${options.workers} workers)`, logStart);
  return {
    id: "xgate",
    baseUrl: `${url}/v1`,
    headers: { ...AUTH },
    models: { embedSmall: UIDS.embedSmall, embedLarge: UIDS.embedLarge, image: "sd3.5" },
    child,
  };
}
