/**
 * Where the `xgate` process listens and how it ends: the host it picks without a master key, the address
 * its banner names, and stopping when the process that started it (npx, npm) is gone.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";

const CLI = fileURLToPath(new URL("../../src/proxy/cli.ts", import.meta.url));
/** By path: the CLI runs in a temp folder (its ./xgate-data goes there), where no node_modules are. */
const TSX = import.meta.resolve("tsx");

// Nothing here sends a request upstream: the deployment only has to exist.
const CONFIG = "model_list:\n  - model_name: embed\n    litellm_params:\n      model: xinference/bge-base-en\n      api_base: http://127.0.0.1:9/v1\n";
const WITH_KEY = `${CONFIG}general_settings:\n  master_key: sk-lifecycle-test\n`;

/** The environment of a user who set neither HOST nor XGATE_MASTER_KEY. */
const PLAIN_ENV = { HOST: undefined, XGATE_MASTER_KEY: undefined };

interface Output {
  stdout: string;
  stderr: string;
}

/** Resolves with what the process printed once its stdout shows `pattern`; rejects if it exits first. */
function waitForOutput(child: ChildProcess, pattern: RegExp): Promise<Output> {
  const output: Output = { stdout: "", stderr: "" };
  child.stderr!.on("data", (chunk: Buffer) => (output.stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.stdout!.on("data", (chunk: Buffer) => {
      output.stdout += chunk.toString();
      if (pattern.test(output.stdout)) resolve(output);
    });
    child.once("exit", (code) => reject(new Error(`exited with ${code} first:\n${output.stdout}\n${output.stderr}`)));
  });
}

function stopped(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  const exit = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  child.kill("SIGTERM");
  return exit;
}

/** Whether something could listen on the port now, i.e. nothing holds it. */
function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

describe("xgate's address and lifetime", () => {
  let dir: string;
  const configFile = async (yaml: string): Promise<string> => {
    const path = join(dir, `config-${Math.random().toString(36).slice(2)}.yaml`);
    await writeFile(path, yaml);
    return path;
  };
  const startCli = (args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess =>
    spawn(process.execPath, ["--import", TSX, CLI, ...args], { env: { ...process.env, ...PLAIN_ENV, ...env }, stdio: ["ignore", "pipe", "pipe"], cwd: dir });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "xgate-lifecycle-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test("without a master key it listens on 127.0.0.1 only, and the banner says why", async () => {
    const child = startCli(["--config", await configFile(CONFIG), "--port", "0"]);
    try {
      const { stdout, stderr } = await waitForOutput(child, /store:/);
      const port = Number(/listening on http:\/\/127\.0\.0\.1:(\d+)\n/.exec(stdout)?.[1]);
      assert.ok(port > 0, stdout);
      assert.match(stdout, /auth: +OPEN to this machine only — no master_key is set, so xgate listens on 127\.0\.0\.1; set general_settings\.master_key \(or XGATE_MASTER_KEY\) to listen on every interface, or pass --host/);
      assert.doesNotMatch(stderr, /OPEN to anyone/);
      assert.equal((await fetch(`http://127.0.0.1:${port}/health/liveliness`)).status, 200);
    } finally {
      assert.equal(await stopped(child), 0);
    }
  });

  test("a host given in HOST is used even without a key, with the loud warning, and 0.0.0.0 is named as such", async () => {
    const child = startCli(["--config", await configFile(CONFIG), "--port", "0"], { HOST: "0.0.0.0" });
    try {
      const { stdout, stderr } = await waitForOutput(child, /store:/);
      const [, port, tryPort] = /listening on 0\.0\.0\.0:(\d+) \(all interfaces\), try http:\/\/127\.0\.0\.1:(\d+)\n/.exec(stdout) ?? [];
      assert.ok(port !== undefined && port === tryPort, stdout);
      assert.match(stdout, /auth: +OPEN — no master_key is set, anyone who can reach this port can use it/);
      assert.match(stderr, /WARNING: no master_key is set: the proxy is OPEN to anyone who can reach its port/);
      assert.equal((await fetch(`http://127.0.0.1:${port}/health/liveliness`)).status, 200);
    } finally {
      assert.equal(await stopped(child), 0);
    }
  });

  test("with a master key it listens on every interface by default", async () => {
    const child = startCli(["--config", await configFile(WITH_KEY), "--port", "0"]);
    try {
      const { stdout } = await waitForOutput(child, /store:/);
      assert.match(stdout, /listening on 0\.0\.0\.0:\d+ \(all interfaces\), try http:\/\/127\.0\.0\.1:\d+\n/);
      assert.match(stdout, /auth: +master key required/);
    } finally {
      assert.equal(await stopped(child), 0);
    }
  });

  test("when the process that started it is killed, it stops as on SIGTERM and frees its port", async () => {
    const cliArgs = ["--import", TSX, CLI, "--config", await configFile(CONFIG), "--port", "0"];
    // The parent plays npm's part under `npx xgate`: xgate runs with the parent's own stdout and stderr,
    // and the parent is then killed outright, as npm is when it gets a SIGTERM it does not pass on.
    const parentScript =
      'const { spawn } = require("node:child_process");' +
      'const child = spawn(process.execPath, JSON.parse(process.argv[1]), { stdio: ["ignore", "inherit", "inherit"] });' +
      'process.stdout.write(`xgate pid ${child.pid}\\n`);';
    const parent = spawn(process.execPath, ["-e", parentScript, JSON.stringify(cliArgs)], {
      cwd: dir,
      env: { ...process.env, ...PLAIN_ENV },
      stdio: ["ignore", "pipe", "pipe"],
    });
    // xgate holds the other ends of these pipes: they end when xgate has exited.
    const ended = Promise.all([once(parent.stdout!, "end"), once(parent.stderr!, "end")]);
    let xgatePid: number | undefined;
    try {
      const output = await waitForOutput(parent, /store:/);
      xgatePid = Number(/xgate pid (\d+)/.exec(output.stdout)?.[1]);
      const port = Number(/listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(output.stdout)?.[1]);
      const parentExit = new Promise((resolve) => parent.once("exit", resolve));
      parent.kill("SIGKILL");
      await parentExit;
      // Should xgate go on running, nothing would end the pipes and the test would hang: a generous
      // watchdog kills it instead, and the assertions below then fail on what it did not print.
      const watchdog = setTimeout(() => process.kill(xgatePid!, "SIGKILL"), 30_000);
      await ended;
      clearTimeout(watchdog);
      assert.match(
        output.stderr,
        new RegExp(`xgate: the process that started xgate \\(pid ${parent.pid}\\) is gone, stopping as on SIGTERM: draining 0 in-flight requests, up to 30 s\\n`),
      );
      assert.match(output.stderr, /xgate: stopped\n/);
      assert.equal(await portIsFree(port), true);
    } finally {
      if (parent.exitCode === null && parent.signalCode === null) parent.kill("SIGKILL");
    }
  });
});
