import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { startEmulator } from "../support/emulator/index.js";
import type { Emulator } from "../support/emulator/index.js";
import { norm, postJson } from "./helpers.js";

interface EmbeddingBody {
  object: string;
  model: string;
  model_replica: string;
  data: { index: number; object: string; embedding: number[] }[];
  usage: { prompt_tokens: number; total_tokens: number };
}

async function embed(emulator: Emulator, body: Record<string, unknown>): Promise<EmbeddingBody> {
  const res = await postJson(emulator, "/embeddings", body);
  assert.equal(res.status, 200, await res.clone().text());
  return (await res.json()) as EmbeddingBody;
}

describe("POST /v1/embeddings", () => {
  let emulator: Emulator;
  before(async () => {
    emulator = await startEmulator({
      models: [
        { model_name: "bge-base-en", model_type: "embedding" },
        { model_name: "bge-small-en-v1.5", model_type: "embedding" },
        { model_name: "bge-large-en-v1.5", model_type: "embedding" },
        { model_name: "jina-embeddings-v2-base-en", model_type: "embedding", model_uid: "jina" },
        { model_name: "bge-small-en-v1.5", model_type: "embedding", model_uid: "replicated", replica: 2 },
        { model_name: "sd-turbo", model_type: "image" },
      ],
    });
  });
  after(() => emulator.close());

  test("vectors have the catalog's length for the launched model, unit norm", async () => {
    for (const [uid, dims] of [
      ["bge-base-en", 768],
      ["bge-small-en-v1.5", 384],
      ["bge-large-en-v1.5", 1024],
      ["jina", 512],
    ] as const) {
      const body = await embed(emulator, { model: uid, input: ["hello world", "goodbye"] });
      assert.equal(body.data.length, 2);
      for (const item of body.data) {
        assert.equal(item.embedding.length, dims, uid);
        assert.ok(Math.abs(norm(item.embedding) - 1) < 1e-5, `${uid} norm ${norm(item.embedding)}`);
      }
    }
  });

  test("the response is compact JSON in the documented shape", async () => {
    const res = await postJson(emulator, "/embeddings", { model: "bge-small-en-v1.5", input: "hello" });
    assert.equal(res.headers.get("content-type"), "application/json");
    const text = await res.text();
    assert.ok(text.startsWith('{"object":"list","model":"bge-small-en-v1.5","model_replica":"bge-small-en-v1.5-rep0","data":[{"index":0,"object":"embedding","embedding":['));
    assert.ok(!text.includes(", ") && !text.includes(": "));
    const body = JSON.parse(text) as EmbeddingBody;
    assert.ok(body.usage.prompt_tokens > 0);
    assert.equal(body.usage.total_tokens, body.usage.prompt_tokens);
  });

  test("the same text always gives the same vector; different texts differ", async () => {
    const first = await embed(emulator, { model: "bge-base-en", input: ["alpha", "beta"] });
    const again = await embed(emulator, { model: "bge-base-en", input: "alpha" });
    const other = await startEmulator({ models: [{ model_name: "bge-base-en", model_type: "embedding" }] });
    try {
      const elsewhere = await embed(other, { model: "bge-base-en", input: "alpha" });
      assert.deepEqual(again.data[0]?.embedding, first.data[0]?.embedding);
      assert.deepEqual(elsewhere.data[0]?.embedding, first.data[0]?.embedding);
      assert.notDeepEqual(first.data[1]?.embedding, first.data[0]?.embedding);
    } finally {
      await other.close();
    }
  });

  test("dimensions and encoding_format have no effect (Xinference quirks)", async () => {
    const body = await embed(emulator, { model: "bge-base-en", input: "x", dimensions: 64, encoding_format: "base64" });
    assert.equal(body.data[0]?.embedding.length, 768);
    assert.equal(typeof body.data[0]?.embedding[0], "number");
    const recorded = emulator.requests.at(-1);
    assert.deepEqual(recorded?.kwargs, { dimensions: 64 });
  });

  test("token-id inputs: int[] is one input, int[][] is one per row", async () => {
    const single = await embed(emulator, { model: "bge-base-en", input: [101, 2023, 2003, 102] });
    assert.equal(single.data.length, 1);
    assert.equal(single.usage.prompt_tokens, 4);
    const batch = await embed(emulator, { model: "bge-base-en", input: [[1, 2, 3], [4, 5]] });
    assert.deepEqual(batch.data.map((d) => d.index), [0, 1]);
    assert.equal(batch.usage.prompt_tokens, 5);
  });

  test("over-long input is truncated silently to the model's max_tokens", async () => {
    const prefix = "lorem ipsum ".repeat(1000);
    const body = await embed(emulator, { model: "bge-base-en", input: [`${prefix}one`, `${prefix}two`] });
    assert.equal(body.usage.prompt_tokens, 2 * 512);
    assert.deepEqual(body.data[0]?.embedding, body.data[1]?.embedding);
    const shorter = await embed(emulator, { model: "bge-base-en", input: prefix, truncate_prompt_tokens: 100 });
    assert.equal(shorter.usage.prompt_tokens, 100);
  });

  test("replicas are picked round-robin", async () => {
    const replicas: string[] = [];
    for (let i = 0; i < 3; i++) replicas.push((await embed(emulator, { model: "replicated", input: "x" })).model_replica);
    assert.deepEqual(replicas, ["replicated-rep0", "replicated-rep1", "replicated-rep0"]);
  });

  test("a big batch of 1,024-dim vectors comes back whole", async () => {
    const input = Array.from({ length: 2048 }, (_, i) => `document ${i}`);
    const body = await embed(emulator, { model: "bge-large-en-v1.5", input });
    assert.equal(body.data.length, 2048);
    assert.equal(body.data[2047]?.index, 2047);
    assert.equal(body.data[2047]?.embedding.length, 1024);
  });

  test("an image model's uid is a 500 engine error", async () => {
    const res = await postJson(emulator, "/embeddings", { model: "sd-turbo", input: "x" });
    assert.equal(res.status, 500);
    assert.equal(res.headers.get("content-type"), "application/json");
    const body = (await res.json()) as { detail: string };
    assert.match(body.detail, /^Model .*model_name='sd-turbo'.* is not for creating embedding\.$/);
  });

  test("validation failures are text/plain 500s, not JSON", async () => {
    for (const bad of [{ input: "x" }, { model: "bge-base-en" }, { model: 3, input: "x" }, { model: "bge-base-en", input: [1, "a"] }]) {
      const res = await postJson(emulator, "/embeddings", bad);
      assert.equal(res.status, 500);
      assert.equal(res.headers.get("content-type"), "text/plain; charset=utf-8");
      assert.match(await res.text(), /^Internal Server Error: \d validation errors? for CreateEmbeddingRequest\n/);
    }
    const res = await postJson(emulator, "/embeddings", "{not json");
    assert.equal(res.status, 500);
    assert.match(await res.text(), /^Internal Server Error: Expecting .*line 1 column \d+ \(char \d+\)$/);
  });
});
