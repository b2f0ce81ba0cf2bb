import assert from "node:assert/strict";
import { beforeEach, describe, it } from "node:test";
import { BadRequestError, rerank } from "../../src/index.js";
import { jsonBody, requestsTo, useEmulator } from "./helpers.js";

const emu = useEmulator();
const call = (params: Record<string, unknown>): ReturnType<typeof rerank> =>
  rerank({
    model: "xinference/bge-reranker-base",
    query: "capital of France",
    documents: ["Berlin is in Germany.", "Paris is the capital of France.", "Bananas are yellow."],
    api_base: emu().baseUrl,
    ...params,
  } as Parameters<typeof rerank>[0]);
const sent = (): Record<string, unknown> => jsonBody(requestsTo(emu(), "/v1/rerank").at(-1));

beforeEach(() => emu().clearRequests());

describe("rerank", () => {
  it("answers LiteLLM's Cohere-style response, with documents by default", async () => {
    const res = await call({});
    assert.equal(typeof res.id, "string");
    assert.equal(res.results.length, 3);
    assert.deepEqual(res.results[0], {
      index: 1,
      relevance_score: res.results[0]?.relevance_score,
      document: { text: "Paris is the capital of France." },
    });
    const scores = res.results.map((r) => r.relevance_score);
    assert.deepEqual([...scores].sort((a, b) => b - a), scores, "most relevant first");
    assert.ok(res.meta.tokens !== null && res.meta.tokens !== undefined && res.meta.tokens.input_tokens! > 0);
    assert.deepEqual(res.meta.billed_units, { search_units: 1, total_tokens: res.meta.tokens.input_tokens });
    assert.deepEqual(sent(), {
      model: "bge-reranker-base",
      query: "capital of France",
      documents: ["Berlin is in Germany.", "Paris is the capital of France.", "Bananas are yellow."],
      return_documents: true,
      return_len: true,
    });
  });

  it("takes { text } documents, top_n, and return_documents: false", async () => {
    const res = await call({ documents: [{ text: "Paris is the capital of France." }, "Rome is in Italy."], top_n: 1, return_documents: false });
    assert.deepEqual(res.results, [{ index: 0, relevance_score: res.results[0]?.relevance_score }]);
    assert.deepEqual(sent().documents, ["Paris is the capital of France.", "Rome is in Italy."]);
    assert.equal(sent().top_n, 1);
    assert.equal(sent().return_documents, false);
  });

  it("sends extras as kwargs, and Xinference's own fields as fields", async () => {
    await call({ max_chunks_per_doc: 2, instruction: "rank well" });
    assert.equal(sent().max_chunks_per_doc, 2);
    assert.deepEqual(JSON.parse(sent().kwargs as string), { instruction: "rank well" });
  });

  it("refuses a missing query, missing or empty documents and a bad top_n before any upstream call", async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ query: "" }, "query"],
      [{ query: undefined }, "query"],
      [{ documents: [] }, "documents"],
      [{ documents: "Paris" }, "documents"],
      [{ documents: ["a", { title: "b" }] }, "documents"],
      [{ top_n: 0 }, "top_n"],
      [{ return_documents: "yes" }, "return_documents"],
    ];
    for (const [params, param] of cases) {
      await assert.rejects(call(params), (err: unknown) => err instanceof BadRequestError && err.param === param, param);
    }
    assert.equal(emu().requests.length, 0);
  });
});
