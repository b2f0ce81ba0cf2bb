import { BadRequestError } from "../errors.js";
import type { RerankParams, RerankResponse } from "../types.js";
import { extrasOf, prepareCall } from "./call.js";
import { optionalBoolean, optionalInteger, requiredString } from "./validate.js";

const OWN = ["model", "query", "documents", "top_n", "return_documents"];

function documentTexts(documents: unknown): string[] {
  if (!Array.isArray(documents) || documents.length === 0) {
    throw new BadRequestError("documents is required: a non-empty array of strings (or { text } objects).", {
      param: "documents",
    });
  }
  return documents.map((doc: unknown, i) => {
    if (typeof doc === "string") return doc;
    const text: unknown = typeof doc === "object" && doc !== null ? (doc as { text?: unknown }).text : undefined;
    if (typeof text === "string") return text;
    throw new BadRequestError(`documents[${i}] must be a string or { text: string }.`, { param: "documents" });
  });
}

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
export async function rerank(params: RerankParams): Promise<RerankResponse> {
  const query = requiredString(params.query, "query", '"capital of France"');
  const documents = documentTexts(params.documents);
  const topN = optionalInteger(params.top_n, "top_n", 1);
  const returnDocuments = optionalBoolean(params.return_documents, "return_documents") ?? true;
  const call = prepareCall(params);
  return call.provider.rerank(
    {
      uid: call.uid,
      dropParams: call.dropParams,
      extras: extrasOf(params, OWN),
      query,
      documents,
      top_n: topN,
      return_documents: returnDocuments,
    },
    call.client,
  );
}
