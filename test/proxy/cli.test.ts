/** The `xgate` command as a user runs it: help, version, --check, bad configs, startup and graceful stop. */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { get } from "node:http";
import { readFile } from "node:fs/promises";
import { after, before, describe, test } from "node:test";
import { type Emulator, startEmulator } from "../support/emulator/index.js";
import { runCli, startProxyProcess } from "../support/proxy-process.js";

/** The status of a GET on a connection of its own. */
function freshStatus(url: string): Promise<number | undefined> {
  return new Promise((resolve, reject) => {
    get(url, { agent: false, timeout: 5000 }, (res) => {
      res.resume();
      resolve(res.statusCode);
    })
      .on("timeout", function (this: { destroy(err: Error): void }) {
        this.destroy(new Error(`no answer from ${url} within 5 s`));
      })
      .on("error", reject);
  });
}

const DOCS_CONFIG = new URL("./config/fixtures/xinference-docs-image.yaml", import.meta.url);

describe("xgate CLI", () => {
  let emulator: Emulator;
  before(async () => {
    emulator = await startEmulator();
  });
  after(async () => {
    await emulator?.close();
  });

  const config = (extra = ""): string => `
model_list:
  - model_name: embed
    litellm_params:
      model: xinference/bge-small-en-v1.5
      api_base: ${emulator.baseUrl}
${extra}`;

  test("--help and --version", async () => {
    const help = await runCli(["--help"]);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /--config/);
    assert.match(help.stdout, /--num_workers/);
    assert.match(help.stdout, /--strict +refuse model_list entries of providers xgate does not serve/);
    assert.match(help.stdout, /--host HOST +address to listen on \(env HOST; default 0\.0\.0\.0 with a master key,\n +127\.0\.0\.1 without one\)/);
    const version = await runCli(["--version"]);
    assert.equal(version.code, 0);
    const pkg = JSON.parse(await readFile(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
    assert.equal(version.stdout.trim(), pkg.version);
  });

  test("an unknown option or a missing --config is a usage error", async () => {
    const unknown = await runCli(["--confg", "x.yaml"]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /confg/);
    const missing = await runCli([]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--config is required/);
  });

  test("--check validates the config and says what it serves", async () => {
    const ok = await runCli(["--check"], { config: config() });
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /Config OK/);
    assert.match(ok.stdout, /embed/);
    assert.match(ok.stdout, /OPEN/);
    assert.match(ok.stdout, new RegExp(`\n {4}embed: xinference/bge-small-en-v1\\.5 at ${emulator.baseUrl.replace(/\./g, "\\.")}\n`));
  });

  test("--check shows where each deployment's requests go, so a misspelt api_base shows as the default", async () => {
    const typo = `model_list:
  - model_name: embed
    litellm_params:
      model: xinference/bge-small-en-v1.5
      api_bse: http://gpu-1:9997/v1
      api_key: sk-never-shown
  - model_name: sd
    litellm_params:
      model: xinference/sd3
`;
    const result = await runCli(["--check"], { config: typo, env: { XINFERENCE_API_BASE: undefined } });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /warning: unknown key model_list\[0\]\.litellm_params\.api_bse \(line 5\) is ignored; did you mean api_base\?/);
    assert.match(result.stdout, /\n {4}embed: xinference\/bge-small-en-v1\.5 at http:\/\/127\.0\.0\.1:9997\/v1 \(the default: neither api_base nor XINFERENCE_API_BASE is set\)\n/);
    const fromEnv = await runCli(["--check"], { config: typo, env: { XINFERENCE_API_BASE: "http://user:hunter2@gpu-2:9997/v1" } });
    assert.match(fromEnv.stdout, /\n {4}sd: xinference\/sd3 at http:\/\/user:\*\*\*@gpu-2:9997\/v1 \(from XINFERENCE_API_BASE; no api_base is set\)/);
    assert.doesNotMatch(result.stdout + result.stderr + fromEnv.stdout + fromEnv.stderr, /sk-never-shown|hunter2/);
  });

  test("entries of other providers (here OpenAI's own API) are skipped with a warning, and refused with --strict", async () => {
    const mixed = `${config()}  - model_name: gpt-4o
    litellm_params:
      model: openai/gpt-4o
      api_key: os.environ/XGATE_TEST_OPENAI_KEY
`;
    const env = { XGATE_TEST_OPENAI_KEY: undefined };
    const skipped = await runCli(["--check"], { config: mixed, env });
    assert.equal(skipped.code, 0, skipped.stderr);
    assert.match(skipped.stderr, /xgate: warning: model_list\[1\] \('gpt-4o', line 9\) is skipped: 'openai\/gpt-4o' has no api_base, so LiteLLM would send it to OpenAI's own API/);
    assert.match(skipped.stdout, /models: embed\n/);
    const strict = await runCli(["--check", "--strict"], { config: mixed, env });
    assert.equal(strict.code, 1);
    assert.match(strict.stderr, /:9:14: model_list\[1\]\.litellm_params\.model: 'openai\/gpt-4o' has no api_base.*Set api_base, remove this entry/);
    assert.doesNotMatch(strict.stderr, /xinference\/gpt-4o/);
  });

  test("the Xinference docs page's mis-indented config fails with the line and a fix", async () => {
    const result = await runCli(["--check"], { config: await readFile(DOCS_CONFIG, "utf8") });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /line \d+/);
    assert.match(result.stderr, /model_info/);
    assert.match(result.stderr, /litellm_params/);
  });

  test("a missing os.environ variable is named with the key that uses it", async () => {
    const result = await runCli(["--check"], {
      config: config("general_settings:\n  master_key: os.environ/XGATE_TEST_UNSET_KEY\n"),
      env: { XGATE_TEST_UNSET_KEY: undefined },
    });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /XGATE_TEST_UNSET_KEY/);
    assert.match(result.stderr, /general_settings\.master_key/);
  });

  test("the banner names the URL, the models, the auth mode, the state and the cache", async () => {
    const proxy = await startProxyProcess(
      config("general_settings:\n  master_key: sk-banner-test\nlitellm_settings:\n  cache: true\n  cache_params: { max_size_mb: 64 }\n"),
    );
    try {
      const { stdout } = proxy.output();
      assert.match(stdout, /listening on http:\/\/127\.0\.0\.1:\d+/);
      assert.match(stdout, /models: embed/);
      assert.match(stdout, /auth: +master key required/);
      assert.match(stdout, /state: +in-process/);
      assert.match(stdout, /cache: +embeddings, in memory \(64 MB; set cache_params\.type: redis to share\)/);
      assert.ok(!stdout.includes("sk-banner-test"));
    } finally {
      assert.equal(await proxy.stop(), 0);
    }
  });

  test("SIGTERM lets an in-flight request finish, says so, then exits 0", async () => {
    // The emulated model computes for a while after it counts the request in flight, so SIGTERM arrives
    // while the request is surely in flight (a latency fault would hold it before counting it).
    const slow = await startEmulator({ computeDelayMs: 1500 });
    const proxy = await startProxyProcess(config().replace(emulator.baseUrl, slow.baseUrl));
    try {
      const inFlight = fetch(`${proxy.baseUrl}/embeddings`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "embed", input: "slow" }),
      });
      await slow.waitForInFlight("bge-small-en-v1.5", 1);
      const exited = proxy.stop("SIGTERM");
      const res = await inFlight;
      assert.equal(res.status, 200);
      assert.equal(((await res.json()) as { data: unknown[] }).data.length, 1);
      assert.equal(await exited, 0);
      assert.match(proxy.output().stderr, /xgate: SIGTERM received, stopping: draining 1 in-flight request, up to 30 s\n(.*\n)*xgate: stopped\n/);
    } finally {
      await slow.close();
    }
  });

  test("with several workers, each health finding is reported once", async () => {
    const proxy = await startProxyProcess(
      `
model_list:
  - model_name: missing
    litellm_params: { model: xinference/not-launched-uid, api_base: "${emulator.baseUrl}" }
    model_info: { mode: embedding }
general_settings: { background_health_checks: true }
`,
      { args: ["--num_workers", "2"] },
    );
    const unhealthyLines = (): number => proxy.output().stdout.split("\n").filter((line) => line.includes("is unhealthy")).length;
    try {
      // Both workers check at start; readiness, answered by either, leaves "starting" once its worker has.
      let settled = 0;
      for (let i = 0; settled < 10; i++) {
        assert.ok(i < 2000, "the first health passes end");
        const readiness = (await (await fetch(`${proxy.url}/health/readiness`)).json()) as { status: string };
        settled = readiness.status === "starting" ? 0 : settled + 1;
      }
      assert.equal(unhealthyLines(), 1, proxy.output().stdout);
    } finally {
      assert.equal(await proxy.stop(), 0);
    }
  });

  test("a worker that dies is replaced, and the proxy goes on serving", async () => {
    const proxy = await startProxyProcess(config(), { args: ["--num_workers", "2"] });
    const workers = (): number[] =>
      execFileSync("pgrep", ["-P", String(proxy.child.pid)], { encoding: "utf8" }).split("\n").filter(Boolean).map(Number);
    try {
      const [victim, survivor] = workers();
      assert.ok(victim !== undefined && survivor !== undefined, "two workers");
      process.kill(victim, "SIGKILL");
      const said = new RegExp(`worker ${victim} exited .*; starting another`);
      for (let i = 0; !(said.test(proxy.output().stderr) && workers().length === 2 && !workers().includes(victim)); i++) {
        assert.ok(i < 600, `a replacement worker starts; stderr so far: ${proxy.output().stderr}`);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      assert.ok(workers().includes(survivor), "the other worker was left alone");
      // A new connection each time, so that both workers get some.
      for (let i = 0; i < 6; i++) assert.equal(await freshStatus(`${proxy.url}/health/liveliness`), 200);
    } finally {
      assert.equal(await proxy.stop(), 0);
    }
  });

  test("--num_workers runs several processes on one port", async () => {
    const proxy = await startProxyProcess(config(), { args: ["--num_workers", "2"] });
    try {
      assert.match(proxy.output().stdout, /\(2 workers\)/);
      // Without Redis each worker keeps its own cooldowns and load.
      assert.match(proxy.output().stdout, /state: +in-process, per worker \(2 workers; set router_settings\.redis_host to share\)/);
      const statuses = await Promise.all(
        Array.from({ length: 6 }, () => fetch(`${proxy.url}/health/liveliness`).then((r) => r.status)),
      );
      assert.deepEqual(statuses, [200, 200, 200, 200, 200, 200]);
    } finally {
      assert.equal(await proxy.stop(), 0);
    }
  });
});
