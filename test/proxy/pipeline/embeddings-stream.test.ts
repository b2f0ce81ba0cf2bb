// Large embedding calls answered as their chunks complete: the same answer as the SDK's, committed once the
// first chunk is in; a chunk failing before that is the attempt's (retried), after it breaks the answer off.
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { embedding } from "../../../src/index.js";
import { type TestApp, testApp } from "../../support/app.js";
import { limitUsage } from "../../support/limits.js";

/** An OpenAI-style embeddings server: vector of input `t<n>` is [n, n + 0.5]; input "boom" resets the connection. */
let upstream: Server;
let baseUrl: string;
before(async () => {
  upstream = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on("data", (chunk: Buffer) => parts.push(chunk));
    req.on("end", () => {
      const { input } = JSON.parse(Buffer.concat(parts).toString()) as { input: string[] };
      if (input.includes("boom")) {
        req.socket.destroy();
        return;
      }
      const data = input.map((text, index) => ({ index, object: "embedding", embedding: [Number(text.slice(1)), Number(text.slice(1)) + 0.5] }));
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ object: "list", model: "x", data, usage: { prompt_tokens: input.length, total_tokens: input.length } }));
    });
  });
  await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/v1`;
});
after(async () => new Promise<void>((resolve) => upstream.close(() => resolve())));

const config = (): string => `
model_list:
  - model_name: embed
    litellm_params: { model: xinference/x, api_base: ${baseUrl}, tpm: 1000000 }
    model_info: { id: embed-a }
router_settings: { allowed_fails: 1, cooldown_time: 60, num_retries: 0 }
`;

const inputs = (n: number): string[] => Array.from({ length: n }, (_unused, i) => `t${i}`);

async function listening(app: TestApp): Promise<string> {
  await app.app.listen({ port: 0, host: "127.0.0.1" });
  return `http://127.0.0.1:${(app.app.server.address() as AddressInfo).port}`;
}

describe("embeddings answered as their chunks complete", () => {
  it("gives the SDK's answer, streamed, for floats and for base64", async () => {
    const app = await testApp(config());
    try {
      const url = await listening(app);
      for (const encoding_format of ["float", "base64"] as const) {
        const res = await fetch(`${url}/v1/embeddings`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ model: "embed", input: inputs(600), encoding_format }),
        });
        assert.equal(res.status, 200);
        assert.equal(res.headers.get("transfer-encoding"), "chunked", "written as it comes, not as one buffer");
        const streamed = (await res.json()) as unknown;
        const sdk = await embedding({ model: "xinference/x", api_base: baseUrl, input: inputs(600), encoding_format });
        assert.deepEqual(streamed, { ...sdk, model: "embed" });
        assert.equal((streamed as { data: unknown[] }).data.length, 600);
      }
      assert.equal((await limitUsage(app.limiter, app.settings.deployments[0]))?.tokens, 1200, "tokens counted when the last chunk is out");
    } finally {
      await app.dispose();
    }
  });

  it("a chunk that fails after the answer began breaks it off and counts against the deployment", async () => {
    const app = await testApp(config());
    try {
      const url = await listening(app);
      const input = inputs(600);
      input[300] = "boom"; // the second chunk's first input
      const res = await fetch(`${url}/v1/embeddings`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "embed", input }),
      });
      assert.equal(res.status, 200, "committed once the first chunk was in");
      await assert.rejects(res.text(), "the body is cut off, not completed with a wrong answer");
      await app.router.router.close();
      const stats = (await app.router.router.stats()).get("embed-a");
      assert.equal(stats?.inFlight, 0);
      assert.match(stats?.cooldown?.reason ?? "", /broke|response/i);
    } finally {
      await app.dispose();
    }
  });

  it("a first chunk that fails is the attempt's: an error answer, not a broken one", async () => {
    const app = await testApp(config());
    try {
      const input = inputs(600);
      input[0] = "boom";
      const res = await app.app.inject({ method: "POST", url: "/v1/embeddings", payload: { model: "embed", input } });
      assert.ok(res.statusCode >= 500, res.body);
      assert.equal(typeof (res.json() as { error: { message: string } }).error.message, "string");
    } finally {
      await app.dispose();
    }
  });
});
