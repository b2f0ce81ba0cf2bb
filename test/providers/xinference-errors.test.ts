// Xinference's error answers, in every form, as the SDK's caller sees them.
import assert from "node:assert/strict";
import { beforeEach, describe, it } from "node:test";
import {
  APIError,
  BadGatewayError,
  BadRequestError,
  embedding,
  imageGeneration,
  InternalServerError,
  NotFoundError,
  PermissionDeniedError,
  RateLimitError,
  rerank,
  ServiceUnavailableError,
  UnprocessableEntityError,
} from "../../src/index.js";
import type { Fault } from "../support/emulator/index.js";
import { useEmulator } from "../sdk/helpers.js";

const emu = useEmulator({ apiKeys: ["xf-all", { key: "xf-only-bge", models: ["bge-base-en"] }] });
const legacy = useEmulator({ legacyNotFound400: true });
const busy = useEmulator({
  computeDelayMs: 300,
  models: [{ model_name: "bge-reranker-base", model_type: "rerank", max_concurrent: 1 }],
});

beforeEach(() => emu().setFault("embeddings", null));

function embed(extra: Record<string, unknown> = {}): ReturnType<typeof embedding> {
  return embedding({ model: "xinference/bge-base-en", input: "x", api_base: emu().baseUrl, api_key: "xf-all", num_retries: 0, ...extra });
}

async function faulted(fault: Fault): Promise<APIError> {
  emu().setFault("embeddings", fault);
  const err = await embed().catch((e: unknown) => e);
  assert.ok(err instanceof APIError, String(err));
  assert.equal(err.provider, "xinference");
  return err;
}

describe("Xinference error bodies", () => {
  it('keeps the message of a JSON {"detail": "..."} and the status of its class', async () => {
    const err = await faulted({ kind: "status", status: 409, body: { detail: "The request has been cancelled: r-1" } });
    assert.equal(err.status, 409);
    assert.equal(err.message, "The request has been cancelled: r-1");
    const internal = await faulted({ kind: "status", status: 500, body: { detail: "CUDA out of memory" } });
    assert.ok(internal instanceof InternalServerError);
    assert.equal(internal.message, "CUDA out of memory");
  });

  it("reads FastAPI's 422 list into one message naming the fields", async () => {
    const err = await faulted({
      kind: "status",
      status: 422,
      body: {
        detail: [
          { type: "missing", loc: ["body", "prompt"], msg: "Field required", input: null },
          { type: "missing", loc: ["body", "image"], msg: "Field required", input: null },
        ],
      },
    });
    assert.ok(err instanceof UnprocessableEntityError);
    assert.equal(err.message, "Invalid request: prompt: Field required; image: Field required");
    assert.equal(err.param, "prompt");
  });

  it("keeps the text of a text/plain 500", async () => {
    const err = await faulted({ kind: "status", status: 500, body: "Internal Server Error: something broke", contentType: "text/plain; charset=utf-8" });
    assert.ok(err instanceof InternalServerError);
    assert.equal(err.message, "Internal Server Error: something broke");
  });

  it("makes a text/plain validation 500 a 400: sending the same request again cannot pass", async () => {
    const err = await faulted({
      kind: "status",
      status: 500,
      body: "Internal Server Error: 1 validation error for CreateEmbeddingRequest\ninput\n  Field required [type=missing]",
      contentType: "text/plain; charset=utf-8",
    });
    assert.ok(err instanceof BadRequestError);
    assert.match(err.message, /validation error for CreateEmbeddingRequest/);
  });

  it("explains an HTML page from something in front of Xinference", async () => {
    const err = await faulted({
      kind: "status",
      status: 502,
      body: "<html><head><title>502 Bad Gateway</title></head><body><h1>nginx</h1></body></html>",
      contentType: "text/html",
    });
    assert.ok(err instanceof BadGatewayError);
    assert.match(err.message, /answered HTTP 502 with an HTML page \("502 Bad Gateway"\)/);
    assert.match(err.message, /api_base/);
  });

  it("says so when the body is empty", async () => {
    const err = await faulted({ kind: "status", status: 503, body: "", contentType: "text/plain" });
    assert.ok(err instanceof ServiceUnavailableError);
    assert.equal(err.message, "Xinference answered HTTP 503 with an empty body.");
  });

  it("maps a real unknown uid to NotFoundError, also from Xinference before 2.7 (400)", async () => {
    for (const base of [emu().baseUrl, legacy().baseUrl]) {
      const err = await embedding({ model: "xinference/no-such-model", input: "x", api_base: base, api_key: "xf-all" }).catch((e: unknown) => e);
      assert.ok(err instanceof NotFoundError, String(err));
      assert.equal(err.status, 404);
      assert.equal(err.code, "model_not_found");
      assert.match(err.message, /^Model not found in the model list, uid: no-such-model/);
    }
  });

  it("hints at /v1 when api_base misses it (a route, not a model, is not found)", async () => {
    const err = await embedding({ model: "xinference/bge-base-en", input: "x", api_base: emu().url, api_key: "xf-all" }).catch((e: unknown) => e);
    assert.ok(err instanceof NotFoundError);
    assert.equal(err.param, "api_base");
    assert.match(err.message, /ending in \/v1/);
  });

  it("maps 403 for a key without access to the model", async () => {
    const err = await embedding({ model: "xinference/bge-small-en-v1.5", input: "x", api_base: emu().baseUrl, api_key: "xf-only-bge" }).catch(
      (e: unknown) => e,
    );
    assert.ok(err instanceof PermissionDeniedError);
    assert.equal(err.message, "API key does not have access to model: bge-small-en-v1.5");
  });

  it("maps a missing key to a 401 that says how to set one", async () => {
    const err = await embed({ api_key: undefined }).catch((e: unknown) => e);
    assert.ok(err instanceof APIError);
    assert.equal(err.status, 401);
    assert.match(err.message, /No API key was sent: pass api_key or set XINFERENCE_API_KEY/);
  });

  it("maps the model's request limit to RateLimitError", async () => {
    const base = busy().baseUrl;
    const first = rerank({ model: "xinference/bge-reranker-base", query: "q", documents: ["d"], api_base: base, num_retries: 0 });
    await busy().waitForInFlight("bge-reranker-base", 1);
    const err = await rerank({ model: "xinference/bge-reranker-base", query: "q", documents: ["d"], api_base: base, num_retries: 0 }).catch(
      (e: unknown) => e,
    );
    assert.ok(err instanceof RateLimitError, String(err));
    assert.match(err.message, /Rate limit reached for the model/);
    await first;
  });

  it("makes a model of the wrong type a 400 that says what to do", async () => {
    const err = await embedding({
      model: "xinference/stabilityai/stable-diffusion-3.5-large",
      input: "x",
      api_base: emu().baseUrl,
      api_key: "xf-all",
    }).catch((e: unknown) => e);
    assert.ok(err instanceof BadRequestError, String(err));
    assert.equal(err.code, "unsupported_by_model");
    assert.match(err.message, /is not for creating embedding/);
    assert.match(err.message, /model_type/);
  });

  it("keeps Xinference's message for a bad response_format it reports itself", async () => {
    emu().setFault("images/generations", { kind: "status", status: 500, body: { detail: "Unsupported response format: gif" }, times: 1 });
    const err = await imageGeneration({
      model: "xinference/sd-turbo",
      prompt: "p",
      api_base: emu().baseUrl,
      api_key: "xf-all",
      num_retries: 0,
    }).catch((e: unknown) => e);
    assert.ok(err instanceof InternalServerError);
    assert.equal(err.message, "Unsupported response format: gif");
  });
});
