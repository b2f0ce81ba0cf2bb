/**
 * Rerank at `{api_base}/rerank`, the Cohere/Jina shape vLLM serves (at `/v1/rerank` and `/rerank`); extras go
 * in the body, as vLLM's `truncate_prompt_tokens` does. A server without the route answers 404, which
 * errors.ts turns into an error saying so.
 */
import type { RerankResponse } from "../../types.js";
import type { UpstreamClient } from "../../upstream/client.js";
import { rerankResponse } from "../rerank-answer.js";
import type { RerankRequest } from "../types.js";

export async function rerank(request: RerankRequest, client: UpstreamClient): Promise<RerankResponse> {
  const body: Record<string, unknown> = {
    ...request.extras,
    model: request.uid,
    query: request.query,
    documents: request.documents,
    return_documents: request.return_documents,
  };
  if (request.top_n !== undefined) body.top_n = request.top_n;
  return rerankResponse(await client.send({ method: "POST", path: "/rerank", json: body }), request, client.target);
}
