/** Rerank: Xinference's `POST /v1/rerank` already answers Cohere's shape; this fills in what LiteLLM's has. */
import { randomUUID } from "node:crypto";
import type { RerankResponse, RerankResult } from "../../types.js";
import type { UpstreamClient } from "../../upstream/client.js";
import { isRecord, unexpectedResponse } from "../shape.js";
import type { RerankRequest } from "../types.js";
import { LABEL, PROVIDER } from "./constants.js";
import { kwargsString } from "./kwargs.js";

function parseResult(item: unknown, i: number, request: RerankRequest): RerankResult {
  if (!isRecord(item) || typeof item.index !== "number" || typeof item.relevance_score !== "number") {
    throw unexpectedResponse(PROVIDER, LABEL, `results[${i}] has no index and relevance_score`);
  }
  const result: RerankResult = { index: item.index, relevance_score: item.relevance_score };
  if (request.return_documents) {
    const document = isRecord(item.document) && typeof item.document.text === "string" ? item.document.text : undefined;
    const text = document ?? request.documents[item.index];
    if (text !== undefined) result.document = { text };
  }
  return result;
}

function tokensOf(meta: unknown): { input_tokens: number; output_tokens: number } | null {
  const tokens = isRecord(meta) ? meta.tokens : undefined;
  if (!isRecord(tokens) || typeof tokens.input_tokens !== "number") return null;
  const output = typeof tokens.output_tokens === "number" ? tokens.output_tokens : 0;
  return { input_tokens: tokens.input_tokens, output_tokens: output };
}

export async function rerank(request: RerankRequest, client: UpstreamClient): Promise<RerankResponse> {
  // return_len and max_chunks_per_doc are fields of Xinference's request; other extras are engine kwargs.
  const { return_len: _ours, max_chunks_per_doc, ...engineExtras } = request.extras;
  const body: Record<string, unknown> = {
    model: request.uid,
    query: request.query,
    documents: request.documents,
    return_documents: request.return_documents,
    // Token counts, so that usage can be reported and billed.
    return_len: true,
  };
  if (request.top_n !== undefined) body.top_n = request.top_n;
  if (max_chunks_per_doc !== undefined) body.max_chunks_per_doc = max_chunks_per_doc;
  const kwargs = kwargsString(engineExtras);
  if (kwargs !== undefined) body.kwargs = kwargs;

  const json = await client.send({ method: "POST", path: "/rerank", json: body });
  if (!isRecord(json) || !Array.isArray(json.results)) throw unexpectedResponse(PROVIDER, LABEL, "no `results` list");
  const results = json.results.map((item: unknown, i) => parseResult(item, i, request));
  const tokens = tokensOf(json.meta);
  return {
    id: typeof json.id === "string" && json.id !== "" ? json.id : randomUUID(),
    results,
    meta: {
      billed_units: { search_units: 1, ...(tokens === null ? {} : { total_tokens: tokens.input_tokens }) },
      tokens,
    },
  };
}
