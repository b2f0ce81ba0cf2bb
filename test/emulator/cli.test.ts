import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { describe, test } from "node:test";

const CLI = fileURLToPath(new URL("../support/emulator/cli.ts", import.meta.url));

function startCli(args: string[]): ChildProcess {
  return spawn(process.execPath, ["--import", "tsx", CLI, ...args], { stdio: ["ignore", "pipe", "pipe"] });
}

/** Resolves with the first stdout line matching the pattern. */
function waitForLine(child: ChildProcess, pattern: RegExp): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let buffered = "";
    child.stdout?.setEncoding("utf8");
    child.stdout?.on("data", (chunk: string) => {
      buffered += chunk;
      const match = pattern.exec(buffered);
      if (match !== null) resolve(match);
    });
    child.once("exit", (code) => reject(new Error(`CLI exited (${code}) before printing ${pattern}: ${buffered}`)));
  });
}

describe("emulator CLI", () => {
  test("starts with DEFAULT_MODELS, prints its URL, exits 0 on SIGTERM", async () => {
    const child = startCli(["--port", "0", "--api-key", "sk-abcdefghijklm"]);
    try {
      const [, url] = await waitForLine(child, /listening on (http:\/\/\S+)/);
      const unauthorized = await fetch(`${url}/v1/models`);
      assert.equal(unauthorized.status, 401);
      const res = await fetch(`${url}/v1/models`, { headers: { authorization: "Bearer sk-abcdefghijklm" } });
      const body = (await res.json()) as { data: { id: string }[] };
      assert.ok(body.data.some((m) => m.id === "stabilityai/stable-diffusion-3.5-large"));
    } finally {
      child.kill("SIGTERM");
    }
    const [code] = (await once(child, "exit")) as [number | null];
    assert.equal(code, 0);
  });

  test("a bad option exits 2 with the usage", async () => {
    const child = startCli(["--port", "nope"]);
    let stderr = "";
    child.stderr?.setEncoding("utf8");
    child.stderr?.on("data", (chunk: string) => (stderr += chunk));
    const [code] = (await once(child, "exit")) as [number | null];
    assert.equal(code, 2);
    assert.match(stderr, /--port must be a non-negative integer/);
    assert.match(stderr, /Usage: npm run emulator/);
  });

  test("--flavor openai serves the OpenAI-wire twin; another flavor exits 2", async () => {
    const child = startCli(["--port", "0", "--flavor", "openai", "--token-delay-ms", "0"]);
    try {
      const [, url] = await waitForLine(child, /listening on (http:\/\/\S+)/);
      const res = await fetch(`${url}/v1/chat/completions`, { method: "POST", body: JSON.stringify({ model: "nope", messages: [] }) });
      assert.equal(((await res.json()) as { error: { code: number } }).error.code, 400);
    } finally {
      child.kill("SIGTERM");
    }
    await once(child, "exit");
    const bad = startCli(["--flavor", "vllm"]);
    let stderr = "";
    bad.stderr?.setEncoding("utf8");
    bad.stderr?.on("data", (chunk: string) => (stderr += chunk));
    const [code] = (await once(bad, "exit")) as [number | null];
    assert.equal(code, 2);
    assert.match(stderr, /--flavor must be xinference or openai/);
  });
});
