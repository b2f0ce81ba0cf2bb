/**
 * A rerank answer in Cohere's shape (`{"id", "results": [{"index", "relevance_score", "document"}], …}`), as
 * Xinference, vLLM and Jina-style servers give it, read into LiteLLM's response. The token count is wherever
 * the server put it: Cohere's `meta.tokens` or `meta.billed_units` (Xinference), or an OpenAI-style `usage`
 * (vLLM).
 */
import { randomUUID } from "node:crypto";
import type { RerankResponse, RerankResult } from "../types.js";
import type { UpstreamTarget } from "../upstream/target.js";
import { isRecord, unexpectedResponse } from "./shape.js";
import type { RerankRequest } from "./types.js";

type Tokens = { input_tokens: number; output_tokens: number };

/** `{"text": …}`, or the text itself as some servers send it. */
function documentText(document: unknown): string | undefined {
  if (typeof document === "string") return document;
  return isRecord(document) && typeof document.text === "string" ? document.text : undefined;
}

function number(value: unknown): number | undefined {
  return typeof value === "number" ? value : undefined;
}

function tokensOf(json: Record<string, unknown>): Tokens | null {
  const meta = isRecord(json.meta) ? json.meta : {};
  const tokens = isRecord(meta.tokens) ? meta.tokens : {};
  const billed = isRecord(meta.billed_units) ? meta.billed_units : {};
  const usage = isRecord(json.usage) ? json.usage : {};
  const input = number(tokens.input_tokens) ?? number(billed.total_tokens) ?? number(usage.total_tokens) ?? number(usage.prompt_tokens);
  return input === undefined ? null : { input_tokens: input, output_tokens: number(tokens.output_tokens) ?? 0 };
}

/** The response: results as the server ranked them, documents when asked for (from the request when the server sent none). */
export function rerankResponse(json: unknown, request: RerankRequest, from: Pick<UpstreamTarget, "provider" | "label">): RerankResponse {
  if (!isRecord(json) || !Array.isArray(json.results)) throw unexpectedResponse(from.provider, from.label, "no `results` list");
  const results = json.results.map((item: unknown, i): RerankResult => {
    if (!isRecord(item) || typeof item.index !== "number" || typeof item.relevance_score !== "number") {
      throw unexpectedResponse(from.provider, from.label, `results[${i}] has no index and relevance_score`);
    }
    const result: RerankResult = { index: item.index, relevance_score: item.relevance_score };
    if (request.return_documents) {
      const text = documentText(item.document) ?? request.documents[item.index];
      if (text !== undefined) result.document = { text };
    }
    return result;
  });
  const tokens = tokensOf(json);
  return {
    id: typeof json.id === "string" && json.id !== "" ? json.id : randomUUID(),
    results,
    meta: {
      billed_units: { search_units: 1, ...(tokens === null ? {} : { total_tokens: tokens.input_tokens }) },
      tokens,
    },
  };
}
