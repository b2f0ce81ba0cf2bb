import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { startEmulator } from "../support/emulator/index.js";
import type { Emulator } from "../support/emulator/index.js";
import { postJson } from "./helpers.js";

interface RerankBody {
  id: string;
  results: { index: number; relevance_score: number; document: { text: string } | null }[];
  meta: { api_version: null; billed_units: null; tokens: { input_tokens: number; output_tokens: number } | null; warnings: null };
}

const DOCUMENTS = ["Paris is the capital of France.", "Bananas are yellow.", "The capital of Germany is Berlin.", "France borders Spain."];

describe("POST /v1/rerank", () => {
  let emulator: Emulator;
  before(async () => {
    emulator = await startEmulator();
  });
  after(() => emulator.close());

  async function rerank(body: Record<string, unknown>): Promise<RerankBody> {
    const res = await postJson(emulator, "/rerank", { model: "bge-reranker-base", query: "capital of France", documents: DOCUMENTS, ...body });
    assert.equal(res.status, 200);
    return (await res.json()) as RerankBody;
  }

  test("scores are deterministic, in (0, 1), sorted descending; the best match first", async () => {
    const body = await rerank({});
    assert.equal(body.results.length, DOCUMENTS.length);
    const scores = body.results.map((r) => r.relevance_score);
    assert.deepEqual(scores, [...scores].sort((a, b) => b - a));
    for (const s of scores) assert.ok(s > 0 && s < 1);
    assert.equal(body.results[0]?.index, 0);
    assert.deepEqual((await rerank({})).results, body.results);
  });

  test("top_n, return_documents, return_len and the meta shape", async () => {
    const body = await rerank({ top_n: 2, return_documents: true, return_len: true });
    assert.equal(body.results.length, 2);
    assert.deepEqual(body.results[0]?.document, { text: DOCUMENTS[0] });
    assert.equal(typeof body.id, "string");
    assert.equal(body.meta.api_version, null);
    assert.equal(body.meta.billed_units, null);
    assert.equal(body.meta.warnings, null);
    assert.ok((body.meta.tokens?.input_tokens ?? 0) > 0);
    const plain = await rerank({});
    assert.equal(plain.results[0]?.document, null);
    assert.equal(plain.meta.tokens, null);
  });

  test("wrong model type, bad kwargs and validation failures", async () => {
    const wrongType = await postJson(emulator, "/rerank", { model: "bge-base-en", query: "q", documents: ["d"] });
    assert.equal(wrongType.status, 500);
    assert.match(((await wrongType.json()) as { detail: string }).detail, /is not for reranking\.$/);
    const badKwargs = await postJson(emulator, "/rerank", { model: "bge-reranker-base", query: "q", documents: ["d"], kwargs: "{" });
    assert.equal(badKwargs.status, 500);
    assert.equal(badKwargs.headers.get("content-type"), "application/json");
    const invalid = await postJson(emulator, "/rerank", { model: "bge-reranker-base", query: "q", documents: "d" });
    assert.equal(invalid.status, 500);
    assert.match(await invalid.text(), /^Internal Server Error: 1 validation error for RerankRequest\ndocuments\n {2}Input should be a valid list \[type=list_type\]$/);
  });
});
