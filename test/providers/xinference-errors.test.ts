// Xinference's error answers, in every form, as the SDK's caller sees them.
import assert from "node:assert/strict";
import { beforeEach, describe, it } from "node:test";
import {
  APIError,
  BadGatewayError,
  BadRequestError,
  embedding,
  imageEdit,
  InternalServerError,
  NotFoundError,
  PermissionDeniedError,
  RateLimitError,
  rerank,
  ServiceUnavailableError,
  UnprocessableEntityError,
} from "../../src/index.js";
import { xinferenceError } from "../../src/providers/xinference/errors.js";
import { CONNECTION } from "../../src/providers/xinference/models.js";
import type { UpstreamFailure } from "../../src/upstream/http.js";
import { resolveTarget } from "../../src/upstream/target.js";
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
});

/** What the emulator answers `input` on `path`, as the failure the provider maps. */
async function emulatorFailure(path: string, input: { json?: unknown; form?: FormData }): Promise<UpstreamFailure> {
  const url = `${emu().baseUrl}${path}`;
  const headers: Record<string, string> = { authorization: "Bearer xf-all" };
  if (input.json !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(url, { method: "POST", headers, body: input.form ?? JSON.stringify(input.json) });
  return {
    status: res.status,
    headers: Object.fromEntries(res.headers),
    body: await res.text(),
    method: "POST",
    url,
    retryAfterMs: undefined,
    target: resolveTarget(CONNECTION, { api_base: emu().baseUrl, api_key: "xf-all" }),
  };
}

/** A 500 in a form no route of the emulator produces (yet): Xinference's own words. */
function engine500(detail: string, path = "/images/generations"): UpstreamFailure {
  return {
    status: 500,
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ detail }),
    method: "POST",
    url: `http://127.0.0.1:9997/v1${path}`,
    retryAfterMs: undefined,
    target: resolveTarget(CONNECTION, { api_base: "http://127.0.0.1:9997/v1" }),
  };
}

function assertClientError(err: APIError, code: string, param: string, message: RegExp): void {
  assert.ok(err instanceof BadRequestError, `${err.constructor.name}: ${err.message}`);
  assert.equal(err.status, 400);
  assert.equal(err.code, code);
  assert.equal(err.param, param);
  assert.equal(err.provider, "xinference");
  assert.match(err.message, message);
}

describe("Xinference's 500s that are the client's mistake are 400s", () => {
  it("an upload its image library cannot open", async () => {
    const form = new FormData();
    form.set("prompt", "p");
    form.set("model", "stabilityai/stable-diffusion-3.5-large");
    form.set("images", new Blob(["not a picture"], { type: "image/png" }), "a.png");
    const failure = await emulatorFailure("/images/edits", { form });
    assert.equal(failure.status, 500);
    assert.match(failure.body, /cannot identify image file <_io\.BytesIO object at 0x/);
    const err = xinferenceError(failure);
    assertClientError(err, "invalid_image", "image", /^Xinference could not open an uploaded image \(PIL: cannot identify image file\)/);
    assert.match(err.message, /Send a whole PNG, JPEG or WebP file/);
    assert.doesNotMatch(err.message, /BytesIO/);
  });

  it("the same through the SDK, and as the text/plain 500 of an uncaught exception", async () => {
    const err = await imageEdit({
      model: "xinference/stabilityai/stable-diffusion-3.5-large",
      prompt: "p",
      image: Buffer.from("not a picture"),
      api_base: emu().baseUrl,
      api_key: "xf-all",
      num_retries: 0,
    }).catch((e: unknown) => e);
    assert.ok(err instanceof APIError, String(err));
    assertClientError(err, "invalid_image", "image", /cannot identify image file/);
    const plain = { ...engine500(""), headers: { "content-type": "text/plain; charset=utf-8" } };
    plain.body = "Internal Server Error: cannot identify image file <_io.BytesIO object at 0x7f3a5c1e2b80>";
    assertClientError(xinferenceError(plain), "invalid_image", "image", /cannot identify image file/);
  });

  it("a model of another type, for every operation's wording", async () => {
    const failure = await emulatorFailure("/images/generations", { json: { model: "bge-base-en", prompt: "p" } });
    assert.match(failure.body, /is not for creating image\./);
    assertClientError(xinferenceError(failure), "unsupported_by_model", "model", /is not for creating image\. The model is of another type/);
    const rerank = await emulatorFailure("/rerank", { json: { model: "bge-base-en", query: "q", documents: ["d"] } });
    assertClientError(xinferenceError(rerank), "unsupported_by_model", "model", /is not for reranking\./);
    for (const what of ["chat", "generate", "creating transcriptions", "creating translations", "creating speech", "txt2img"]) {
      const err = xinferenceError(engine500(`Model model_name='bge-base-en' is not for ${what}.`, "/chat/completions"));
      assertClientError(err, "unsupported_by_model", "model", /GET \/v1\/models lists each model's model_type/);
    }
  });

  it("a response_format Xinference does not have", async () => {
    const failure = await emulatorFailure("/images/generations", { json: { model: "sd-turbo", prompt: "p", response_format: "gif" } });
    assert.equal(JSON.parse(failure.body).detail, "Unsupported response format: gif");
    assertClientError(xinferenceError(failure), "invalid_request", "response_format", /^Xinference does not support response_format 'gif' here: use 'b64_json' or 'url'\.$/);
    const audio = xinferenceError(engine500("Unsupported response format: ogg", "/audio/speech"));
    assertClientError(audio, "invalid_request", "response_format", /'ogg' here: use one the operation supports/);
  });

  it("kwargs that are not JSON, or not a JSON object", async () => {
    const cases: [kwargs: string, python: RegExp][] = [
      ["not json", /^Expecting value: line 1 column 1 \(char 0\)$/],
      ['{"seed" 7}', /^Expecting ':' delimiter: line 1 column 9 \(char 8\)$/],
      ['{"seed": 7} x', /^Extra data: line 1 column 13 \(char 12\)$/],
    ];
    for (const [kwargs, python] of cases) {
      const failure = await emulatorFailure("/images/generations", { json: { model: "sd-turbo", prompt: "p", kwargs } });
      const detail = (JSON.parse(failure.body) as { detail: string }).detail;
      assert.match(detail, python);
      const err = xinferenceError(failure);
      assertClientError(err, "invalid_kwargs", "kwargs", /^Xinference could not parse the request's kwargs as JSON \(/);
      assert.ok(err.message.includes(detail), err.message);
      assert.match(err.message, /send kwargs as a JSON object of engine parameters, e\.g\. \{"seed": 7\}/);
    }
    // Python's words where the emulator's are not yet the same.
    for (const detail of [
      "Expecting property name enclosed in double quotes: line 1 column 12 (char 11)",
      "Unterminated string starting at: line 1 column 2 (char 1)",
      "Invalid \\escape: line 1 column 10 (char 9)",
    ]) {
      assertClientError(xinferenceError(engine500(detail)), "invalid_kwargs", "kwargs", /could not parse the request's kwargs as JSON/);
    }
    const list = await emulatorFailure("/images/generations", { json: { model: "sd-turbo", prompt: "p", kwargs: "[1, 2]" } });
    assertClientError(xinferenceError(list), "invalid_kwargs", "kwargs", /^Xinference needs kwargs to be a JSON object of engine parameters, not a list/);
  });

  it("leaves a 500 that is the engine's own fault a 500", () => {
    for (const detail of ["CUDA out of memory. Tried to allocate 2.00 GiB", "Expecting value from the scheduler", "Model is not for sale"]) {
      const err = xinferenceError(engine500(detail));
      assert.ok(err instanceof InternalServerError, detail);
      assert.equal(err.message, detail);
    }
  });
});
