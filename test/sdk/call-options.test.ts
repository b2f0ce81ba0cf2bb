// What every operation shares: where it sends (call options, environment at call time, default), the
// provider prefix, retries, timeouts and cancellation.
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { afterEach, beforeEach, describe, it } from "node:test";
import {
  APIConnectionError,
  APITimeoutError,
  AuthenticationError,
  BadRequestError,
  embedding,
  imageEdit,
  imageGeneration,
  InternalServerError,
  RateLimitError,
  rerank,
  ServiceUnavailableError,
} from "../../src/index.js";
import { callTarget } from "../../src/sdk/call.js";
import { pngBytes } from "../upstream/helpers.js";
import { requestsTo, useEmulator } from "./helpers.js";

const emuA = useEmulator();
const emuB = useEmulator({ apiKeys: ["xf-right-key"] });

beforeEach(() => {
  emuA().clearRequests();
  emuB().clearRequests();
});
afterEach(() => {
  delete process.env.XINFERENCE_API_BASE;
  delete process.env.XINFERENCE_API_KEY;
  for (const route of ["embeddings", "images/generations", "rerank"] as const) emuA().setFault(route, null);
});

const SD = "xinference/stabilityai/stable-diffusion-3.5-large";

/** One call of each operation, with the given call options. */
async function everyOperation(options: Record<string, unknown>): Promise<void> {
  const png = await pngBytes(16, 16);
  await embedding({ model: "xinference/bge-base-en", input: "x", ...options });
  await imageGeneration({ model: SD, prompt: "p", size: "16x16", ...options });
  await imageEdit({ model: SD, prompt: "p", image: png, ...options });
  await rerank({ model: "xinference/bge-reranker-base", query: "q", documents: ["d"], ...options });
}

const OPERATION_PATHS = ["/v1/embeddings", "/v1/images/generations", "/v1/images/edits", "/v1/rerank"];

describe("where a call goes", () => {
  it("reads XINFERENCE_API_BASE and XINFERENCE_API_KEY at call time, for every operation", async () => {
    process.env.XINFERENCE_API_BASE = emuA().baseUrl;
    await everyOperation({});
    assert.deepEqual(emuA().requests.map((r) => r.path), OPERATION_PATHS);
    assert.ok(emuA().requests.every((r) => r.headers.authorization === undefined), "no key, no Authorization header");

    process.env.XINFERENCE_API_BASE = emuB().baseUrl;
    process.env.XINFERENCE_API_KEY = "xf-right-key";
    await everyOperation({});
    assert.deepEqual(emuB().requests.map((r) => r.path), OPERATION_PATHS);
    assert.ok(emuB().requests.every((r) => r.headers.authorization === "Bearer xf-right-key"));
    assert.equal(emuA().requests.length, 4, "the first emulator got nothing more");
  });

  it("prefers the call's api_base and api_key over the environment", async () => {
    process.env.XINFERENCE_API_BASE = "http://127.0.0.1:9/v1";
    process.env.XINFERENCE_API_KEY = "xf-wrong";
    await everyOperation({ api_base: emuB().baseUrl, api_key: "xf-right-key" });
    assert.equal(emuB().requests.length, 4);
  });

  it("defaults to http://127.0.0.1:9997/v1 for every operation", async (t) => {
    const paths: string[] = [];
    const server = createServer((req, res) => {
      paths.push(req.url ?? "");
      res.writeHead(503, { "content-type": "application/json" });
      res.end(JSON.stringify({ detail: "default base reached" }));
    });
    const listening = await new Promise<boolean>((resolve) => {
      server.once("error", () => resolve(false));
      server.listen(9997, "127.0.0.1", () => resolve(true));
    });
    if (!listening) {
      t.skip("port 9997 is in use on this machine");
      return;
    }
    try {
      const png = await pngBytes(16, 16);
      // Each call starts only when awaited: a rejection left waiting would count as unhandled.
      const calls = [
        () => embedding({ model: "xinference/bge-base-en", input: "x", num_retries: 0 }),
        () => imageGeneration({ model: SD, prompt: "p", num_retries: 0 }),
        () => imageEdit({ model: SD, prompt: "p", image: png, num_retries: 0 }),
        () => rerank({ model: "xinference/bge-reranker-base", query: "q", documents: ["d"], num_retries: 0 }),
      ];
      for (const call of calls) await assert.rejects(call(), { message: "default base reached" });
      assert.deepEqual(paths.sort(), [...OPERATION_PATHS].sort());
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it("resolves to http://127.0.0.1:9997/v1 without api_base or XINFERENCE_API_BASE (the path every operation takes)", () => {
    const call = callTarget({ model: "xinference/bge-base-en" });
    assert.equal(call.upstream.apiBase, "http://127.0.0.1:9997/v1");
    assert.equal(call.upstream.apiKey, undefined);
  });

  it("splits the model string at the first '/': the uid may contain '/'", async () => {
    await imageGeneration({ model: SD, prompt: "p", size: "16x16", api_base: emuA().baseUrl });
    assert.equal((requestsTo(emuA(), "/v1/images/generations")[0]?.body as { model: string }).model, "stabilityai/stable-diffusion-3.5-large");
  });

  it("refuses an unknown provider or a model without one with a 400 listing the providers", async () => {
    for (const model of ["azure/text-embedding-3-small", "bge-base-en", "/bge", "xinference/"]) {
      await assert.rejects(embedding({ model, input: "x", api_base: emuA().baseUrl }), (err: unknown) => {
        assert.ok(err instanceof BadRequestError, String(err));
        assert.equal(err.param, "model");
        return true;
      });
    }
    await assert.rejects(embedding({ model: "azure/x", input: "x" }), /Unknown provider 'azure'\. Supported providers: xinference, openai, hosted_vllm\./);
    assert.equal(emuA().requests.length, 0);
  });
});

describe("the api key", () => {
  it("never appears in an authentication error, its string or its JSON", async () => {
    const key = "xf-wrongkeyABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefgh";
    const err = await embedding({ model: "xinference/bge-base-en", input: "x", api_base: emuB().baseUrl, api_key: key }).catch(
      (e: unknown) => e,
    );
    assert.ok(err instanceof AuthenticationError);
    assert.equal(err.status, 401);
    assert.equal(err.provider, "xinference");
    assert.match(err.message, /Could not validate credentials/);
    for (const text of [err.message, String(err), JSON.stringify(err), err.stack ?? ""]) assert.equal(text.includes(key), false);
  });
});

describe("retries", () => {
  it("retries a 503 after the Retry-After the upstream sent", async () => {
    emuA().setFault("embeddings", { kind: "status", status: 503, headers: { "Retry-After": "1" }, times: 1 });
    const res = await embedding({ model: "xinference/bge-base-en", input: "x", api_base: emuA().baseUrl });
    assert.equal(res.data.length, 1);
    const [first, second] = requestsTo(emuA(), "/v1/embeddings");
    assert.equal(first?.status, 503);
    assert.equal(second?.status, 200);
    // A lower bound the code guarantees (timers may fire a millisecond early), not a speed measurement.
    assert.ok((second?.at ?? 0) - (first?.at ?? 0) >= 990, "waited the second it was asked to");
  });

  it("retries a 429 after retry-after-ms", async () => {
    emuA().setFault("rerank", { kind: "status", status: 429, headers: { "retry-after-ms": "50" }, times: 2 });
    const res = await rerank({ model: "xinference/bge-reranker-base", query: "q", documents: ["d"], api_base: emuA().baseUrl });
    assert.equal(res.results.length, 1);
    assert.deepEqual(requestsTo(emuA(), "/v1/rerank").map((r) => r.status), [429, 429, 200]);
  });

  it("retries 5xx num_retries times (default 2), then throws the last error", async () => {
    emuA().setFault("embeddings", { kind: "status", status: 500, body: { detail: "engine hiccup" }, headers: { "retry-after-ms": "0" } });
    await assert.rejects(embedding({ model: "xinference/bge-base-en", input: "x", api_base: emuA().baseUrl }), (err: unknown) => {
      assert.ok(err instanceof InternalServerError);
      assert.equal(err.message, "engine hiccup");
      return true;
    });
    assert.equal(requestsTo(emuA(), "/v1/embeddings").length, 3);
    emuA().clearRequests();
    await assert.rejects(embedding({ model: "xinference/bge-base-en", input: "x", api_base: emuA().baseUrl, num_retries: 0 }));
    assert.equal(requestsTo(emuA(), "/v1/embeddings").length, 1);
  });

  it("retries 408 and 409 too", async () => {
    emuA().setFault("embeddings", { kind: "status", status: 408, headers: { "retry-after-ms": "0" }, times: 1 });
    await embedding({ model: "xinference/bge-base-en", input: "x", api_base: emuA().baseUrl });
    emuA().setFault("embeddings", { kind: "status", status: 409, headers: { "retry-after-ms": "0" }, times: 1 });
    await embedding({ model: "xinference/bge-base-en", input: "x", api_base: emuA().baseUrl });
    assert.deepEqual(requestsTo(emuA(), "/v1/embeddings").map((r) => r.status), [408, 200, 409, 200]);
  });

  it("does not retry other 4xx", async () => {
    for (const status of [400, 401, 403, 404, 422]) {
      emuA().clearRequests();
      emuA().setFault("embeddings", { kind: "status", status, body: { detail: `status ${status}` } });
      await assert.rejects(embedding({ model: "xinference/bge-base-en", input: "x", api_base: emuA().baseUrl }), { status });
      assert.equal(requestsTo(emuA(), "/v1/embeddings").length, 1, `status ${status} is not retried`);
    }
  });

  it("does not wait a Retry-After longer than 60 s: the error says how long instead", async () => {
    emuA().setFault("embeddings", { kind: "status", status: 429, body: { detail: "quota" }, headers: { "Retry-After": "3600" } });
    await assert.rejects(embedding({ model: "xinference/bge-base-en", input: "x", api_base: emuA().baseUrl }), (err: unknown) => {
      assert.ok(err instanceof RateLimitError);
      assert.equal(err.retryAfterMs, 3_600_000);
      return true;
    });
    assert.equal(requestsTo(emuA(), "/v1/embeddings").length, 1);
  });

  it("retries a reset connection", async () => {
    emuA().setFault("embeddings", { kind: "reset", times: 1 });
    const res = await embedding({ model: "xinference/bge-base-en", input: "x", api_base: emuA().baseUrl });
    assert.equal(res.data.length, 1);
  });

  it("is cancelled by the AbortSignal while waiting to retry a loading model", async () => {
    const emu = emuA();
    emu.setLoading("bge-base-en", true);
    try {
      const controller = new AbortController();
      const call = embedding({ model: "xinference/bge-base-en", input: "x", api_base: emu.baseUrl, signal: controller.signal });
      // The loading model answers 503 with Retry-After: 30; abort once that answer is out.
      await new Promise<void>((resolve) => {
        const poll = (): void => void (emu.requests.some((r) => r.status === 503) ? resolve() : setImmediate(poll));
        poll();
      });
      controller.abort(new Error("the user went away"));
      await assert.rejects(call, { message: "the user went away" });
      assert.equal(requestsTo(emu, "/v1/embeddings").length, 1);
    } finally {
      emu.setLoading("bge-base-en", false);
    }
  });
});

describe("timeouts and broken connections", () => {
  it("times out an attempt that gets no answer: APITimeoutError", async () => {
    emuA().setFault("images/generations", { kind: "stall" });
    await assert.rejects(
      imageGeneration({ model: SD, prompt: "p", api_base: emuA().baseUrl, timeout: 0.2, num_retries: 0 }),
      (err: unknown) => err instanceof APITimeoutError && err.provider === "xinference" && err.status === undefined,
    );
  });

  it("times out a body that stops halfway", async () => {
    emuA().setFault("embeddings", { kind: "stall-body" });
    await assert.rejects(
      embedding({ model: "xinference/bge-base-en", input: "x", api_base: emuA().baseUrl, timeout: 0.2, num_retries: 0 }),
      APITimeoutError,
    );
  });

  it("retries an attempt that timed out", async () => {
    emuA().setFault("rerank", { kind: "stall", times: 1 });
    const res = await rerank({ model: "xinference/bge-reranker-base", query: "q", documents: ["d"], api_base: emuA().baseUrl, timeout: 0.2 });
    assert.equal(res.results.length, 1);
  });

  it("reports a truncated body or a reset connection as APIConnectionError", async () => {
    for (const kind of ["truncate", "reset"] as const) {
      emuA().setFault("embeddings", { kind });
      await assert.rejects(
        embedding({ model: "xinference/bge-base-en", input: "x", api_base: emuA().baseUrl, num_retries: 0 }),
        (err: unknown) => err instanceof APIConnectionError && !(err instanceof APITimeoutError) && err.provider === "xinference",
      );
    }
  });

  it("reports a loading model as ServiceUnavailableError with its Retry-After", async () => {
    emuA().setLoading("bge-reranker-base", true);
    try {
      await assert.rejects(
        rerank({ model: "xinference/bge-reranker-base", query: "q", documents: ["d"], api_base: emuA().baseUrl, num_retries: 0 }),
        (err: unknown) => {
          assert.ok(err instanceof ServiceUnavailableError);
          assert.equal(err.retryAfterMs, 30_000);
          assert.match(err.message, /Model is loading/);
          return true;
        },
      );
    } finally {
      emuA().setLoading("bge-reranker-base", false);
    }
  });
});
