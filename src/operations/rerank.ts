/** Rerank: documents ordered by relevance to a query, in Cohere's shape as LiteLLM answers it. */
import { BadRequestError } from "../errors.js";
import type { RerankRequest } from "../providers/index.js";
import type { RerankResponse } from "../types.js";
import { createUpstreamClient } from "../upstream/client.js";
import { extrasOf, mergedExtras, type OperationTarget, type RawParams } from "./types.js";
import { optionalBoolean, optionalInteger, requiredString } from "./validate.js";

const OWN: ReadonlySet<string> = new Set(["query", "documents", "top_n", "return_documents"]);

/** A rerank, checked: the provider's request before the target fills in uid and drop_params. */
export type RerankCall = Omit<RerankRequest, "uid" | "dropParams">;

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

/** `return_documents` defaults to true, as in LiteLLM. */
export function parseRerank(raw: RawParams): RerankCall {
  return {
    query: requiredString(raw.query, "query", '"capital of France"'),
    documents: documentTexts(raw.documents),
    top_n: optionalInteger(raw.top_n, "top_n", 1),
    return_documents: optionalBoolean(raw.return_documents, "return_documents") ?? true,
    extras: extrasOf(raw, OWN),
  };
}

export function runRerank(request: RerankCall, target: OperationTarget): Promise<RerankResponse> {
  return target.provider.rerank(
    { ...request, uid: target.uid, dropParams: target.dropParams, extras: mergedExtras(target, request.extras) },
    createUpstreamClient(target.upstream, target.provider.toError),
  );
}
