import { rerank as operation } from "../operations/index.js";
import type { RerankParams, RerankResponse } from "../types.js";
import { callOperation } from "./call.js";

/**
 * Ranks documents by relevance to a query; answers Cohere's shape, as LiteLLM does. `return_documents`
 * defaults to true, as in LiteLLM.
 *
 * @example
 * import { rerank } from "xgate";
 * const res = await rerank({
 *   model: "xinference/bge-reranker-base",
 *   query: "capital of France",
 *   documents: ["Paris is the capital of France.", "Berlin is in Germany."],
 *   top_n: 1,
 * });
 * res.results[0]; // { index: 0, relevance_score: 0.98, document: { text: "Paris is…" } }
 */
export function rerank(params: RerankParams): Promise<RerankResponse> {
  return callOperation(operation, params);
}
