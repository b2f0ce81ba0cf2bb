import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { DEFAULT_MODELS, startEmulator } from "../support/emulator/index.js";
import type { Emulator } from "../support/emulator/index.js";
import { postJson } from "./helpers.js";

type ModelEntry = Record<string, unknown> & { id: string };

describe("model management", () => {
  let emulator: Emulator;
  before(async () => {
    emulator = await startEmulator();
  });
  after(() => emulator.close());

  test("GET /v1/models lists DEFAULT_MODELS in the documented shape", async () => {
    const res = await fetch(`${emulator.baseUrl}/models`);
    const body = (await res.json()) as { object: string; data: ModelEntry[] };
    assert.equal(body.object, "list");
    assert.deepEqual(body.data.map((m) => m.id), DEFAULT_MODELS.map((m) => m.model_uid ?? m.model_name));
    const byId = new Map(body.data.map((m) => [m.id, m]));
    const bge = byId.get("bge-base-en");
    assert.deepEqual(
      { object: bge?.object, created: bge?.created, owned_by: bge?.owned_by, model_type: bge?.model_type, dimensions: bge?.dimensions, max_tokens: bge?.max_tokens, language: bge?.language, replica: bge?.replica },
      { object: "model", created: 0, owned_by: "xinference", model_type: "embedding", dimensions: 768, max_tokens: 512, language: ["en"], replica: 1 },
    );
    assert.equal(byId.get("bge-small-en-v1.5")?.dimensions, 384);
    assert.equal(byId.get("bge-large-en-v1.5")?.dimensions, 1024);
    const sd = byId.get("stabilityai/stable-diffusion-3.5-large");
    assert.equal(sd?.model_name, "sd3.5-large");
    assert.equal(sd?.model_family, "stable_diffusion");
    assert.deepEqual(sd?.model_ability, ["text2image", "image2image", "inpainting"]);
    assert.deepEqual(byId.get("sd-turbo")?.model_ability, ["text2image"]);
    assert.equal(byId.get("bge-reranker-base")?.model_type, "rerank");
    for (const entry of body.data) {
      assert.equal(typeof entry.address, "string");
      assert.ok(Array.isArray(entry.accelerators));
    }
  });

  test("GET /v1/models/{uid} matches uids with slashes; unknown is 400", async () => {
    const res = await fetch(`${emulator.baseUrl}/models/stabilityai/stable-diffusion-3.5-large`);
    assert.equal(res.status, 200);
    const body = (await res.json()) as Record<string, unknown>;
    assert.equal(body.model_name, "sd3.5-large");
    assert.equal(body.model_type, "image");
    const unknown = await fetch(`${emulator.baseUrl}/models/nope`);
    assert.equal(unknown.status, 400);
    assert.deepEqual(await unknown.json(), { detail: "Model not found in the model list, uid: nope" });
  });

  test("launch, use and terminate a model over REST", async () => {
    const launched = await postJson(emulator, "/models", { model_name: "gte-base", model_type: "embedding" });
    assert.equal(launched.status, 200);
    assert.deepEqual(await launched.json(), { model_uid: "gte-base" });
    const custom = await postJson(emulator, "/models", { model_uid: "my/jina", model_name: "jina-embeddings-v2-base-en", model_type: "embedding" });
    assert.deepEqual(await custom.json(), { model_uid: "my/jina" });
    const used = await postJson(emulator, "/embeddings", { model: "my/jina", input: "x" });
    assert.equal(((await used.json()) as { data: { embedding: number[] }[] }).data[0]?.embedding.length, 512);

    const duplicate = await postJson(emulator, "/models", { model_name: "gte-base", model_type: "embedding" });
    assert.equal(duplicate.status, 400);
    assert.deepEqual(await duplicate.json(), { detail: "Model is already in the model list, uid: gte-base" });
    const unknownName = await postJson(emulator, "/models", { model_name: "no-such-model", model_type: "embedding" });
    assert.equal(unknownName.status, 400);
    const noName = await postJson(emulator, "/models", { model_type: "embedding" });
    assert.equal(noName.status, 400);

    const deleted = await fetch(`${emulator.baseUrl}/models/my/jina`, { method: "DELETE" });
    assert.equal(deleted.status, 200);
    assert.equal(await deleted.text(), "null");
    const gone = await postJson(emulator, "/embeddings", { model: "my/jina", input: "x" });
    assert.equal(gone.status, 404);
    const deleteAgain = await fetch(`${emulator.baseUrl}/models/my/jina`, { method: "DELETE" });
    assert.equal(deleteAgain.status, 400);
  });

  test("unknown uid: 404 with the available uids (400 with legacyNotFound400)", async () => {
    const res = await postJson(emulator, "/embeddings", { model: "nope", input: "x" });
    assert.equal(res.status, 404);
    const detail = ((await res.json()) as { detail: string }).detail;
    assert.match(detail, /^Model not found in the model list, uid: nope\. Available model uids: \['bge-base-en', /);
    const legacy = await startEmulator({ legacyNotFound400: true, models: [{ model_name: "bge-base-en", model_type: "embedding" }] });
    try {
      const old = await postJson(legacy, "/embeddings", { model: "nope", input: "x" });
      assert.equal(old.status, 400);
      assert.deepEqual(await old.json(), { detail: "Model not found in the model list, uid: nope. Available model uids: ['bge-base-en']" });
    } finally {
      await legacy.close();
    }
  });

  test("a loading model answers 503 with Retry-After: 30 until it is ready", async () => {
    const uid = await emulator.launch({ model_name: "bge-small-zh", model_type: "embedding", model_uid: "slow", loading_ms: 600_000 });
    const loading = await postJson(emulator, "/embeddings", { model: uid, input: "x" });
    assert.equal(loading.status, 503);
    assert.equal(loading.headers.get("retry-after"), "30");
    assert.deepEqual(await loading.json(), { detail: "Model is loading, please retry later: slow" });
    emulator.setLoading(uid, false);
    assert.equal((await postJson(emulator, "/embeddings", { model: uid, input: "x" })).status, 200);
    emulator.setLoading(uid, true);
    assert.equal((await postJson(emulator, "/images/generations", { model: uid, prompt: "x" })).status, 503);
    emulator.terminate(uid);
  });

  test("POST /v1/models waits for loading unless wait_ready=false", async () => {
    const noWait = await postJson(emulator, "/models?wait_ready=false", { model_name: "gte-large", model_type: "embedding", loading_ms: 600_000 });
    assert.deepEqual(await noWait.json(), { model_uid: "gte-large" });
    assert.equal((await postJson(emulator, "/embeddings", { model: "gte-large", input: "x" })).status, 503);
    const waited = await postJson(emulator, "/models", { model_name: "e5-large-v2", model_type: "embedding", loading_ms: 20 });
    assert.deepEqual(await waited.json(), { model_uid: "e5-large-v2" });
    assert.equal((await postJson(emulator, "/embeddings", { model: "e5-large-v2", input: "x" })).status, 200);
  });

  test("unknown paths and methods answer like FastAPI", async () => {
    const notFound = await fetch(`${emulator.baseUrl}/nothing`);
    assert.equal(notFound.status, 404);
    assert.deepEqual(await notFound.json(), { detail: "Not Found" });
    const wrongMethod = await fetch(`${emulator.baseUrl}/embeddings`);
    assert.equal(wrongMethod.status, 405);
    assert.deepEqual(await wrongMethod.json(), { detail: "Method Not Allowed" });
  });

  test("the programmatic API refuses unknown names and duplicate uids", async () => {
    await assert.rejects(emulator.launch({ model_name: "nope", model_type: "image" }), /Image model nope not found/);
    await assert.rejects(emulator.launch({ model_name: "bge-base-en", model_type: "embedding" }), /already in the model list/);
    assert.throws(() => emulator.terminate("nope"), /Model not found in the model list, uid: nope/);
  });
});

describe("request limits and cancellation", () => {
  let emulator: Emulator;
  before(async () => {
    emulator = await startEmulator({
      computeDelayMs: 600_000,
      models: [
        { model_name: "bge-base-en", model_type: "embedding", max_concurrent: 1 },
        { model_name: "sd-turbo", model_type: "image" },
      ],
    });
  });
  after(() => emulator.close());

  test("past max_concurrent in-flight requests: 429; a cancelled request: 409", async () => {
    const first = postJson(emulator, "/embeddings", { model: "bge-base-en", input: "x", request_id: "r1" });
    await emulator.waitForInFlight("bge-base-en", 1);
    const second = await postJson(emulator, "/embeddings", { model: "bge-base-en", input: "x" });
    assert.equal(second.status, 429);
    assert.deepEqual(await second.json(), { detail: "Rate limit reached for the model. Request limit 1 for the model: bge-base-en" });
    assert.equal(emulator.cancel("r1"), 1);
    const cancelled = await first;
    assert.equal(cancelled.status, 409);
    assert.deepEqual(await cancelled.json(), { detail: "The request has been cancelled: r1" });
  });

  test("image requests are cancelled by their kwargs request_id", async () => {
    const pending = postJson(emulator, "/images/generations", { model: "sd-turbo", prompt: "x", kwargs: JSON.stringify({ request_id: "img-1" }) });
    await emulator.waitForInFlight("sd-turbo", 1);
    assert.equal(emulator.cancel("img-1"), 1);
    const res = await pending;
    assert.equal(res.status, 409);
    assert.deepEqual(await res.json(), { detail: "The request has been cancelled: img-1" });
  });
});
