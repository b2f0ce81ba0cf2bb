import type { EmbeddingAnswer, EmbeddingsRequest, StreamedEmbeddings } from "../../operations/index.js";
import { embeddingsAnswer } from "../../operations/index.js";
import { asObject, type CacheStage, type OperationRoute } from "../pipeline/index.js";

/** `cache`: the embedding cache's stage, when the config turns the cache on. */
export function embeddingsRoute(
  cache: CacheStage<EmbeddingsRequest, StreamedEmbeddings, EmbeddingAnswer> | undefined,
): OperationRoute<EmbeddingsRequest, StreamedEmbeddings, EmbeddingAnswer> {
  return {
    urls: ["/v1/embeddings", "/embeddings"],
    operation: embeddingsAnswer,
    read: (request) => ({ fields: asObject(request.body, "POST /v1/embeddings") }),
    ...(cache !== undefined && { cache }),
    // Clients expect the model name they asked for, not the upstream uid. Written as bytes, not returned as
    // objects: serialising a batch's floats again was the largest cost of an embedding request.
    respond: (result, parsed, _request, reply) => reply.type("application/json; charset=utf-8").send(result.body(parsed.model)),
  };
}
