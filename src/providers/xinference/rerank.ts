/** Rerank: Xinference's `POST /v1/rerank` already answers Cohere's shape (rerank-answer.ts reads it). */
import type { RerankResponse } from "../../types.js";
import type { UpstreamClient } from "../../upstream/client.js";
import { rerankResponse } from "../rerank-answer.js";
import type { RerankRequest } from "../types.js";
import { kwargsString } from "./kwargs.js";

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

  return rerankResponse(await client.send({ method: "POST", path: "/rerank", json: body }), request, client.target);
}
