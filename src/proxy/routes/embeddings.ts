import type { EmbeddingAnswer, EmbeddingsRequest } from "../../operations/index.js";
import { embeddingsAnswer } from "../../operations/index.js";
import { asObject, type OperationRoute } from "../pipeline/index.js";

export const embeddingsRoute: OperationRoute<EmbeddingsRequest, EmbeddingAnswer> = {
  urls: ["/v1/embeddings", "/embeddings"],
  operation: embeddingsAnswer,
  read: (request) => ({ fields: asObject(request.body, "POST /v1/embeddings") }),
  // Clients expect the model name they asked for, not the upstream uid. Written as bytes, not returned as
  // objects: serialising a batch's floats again was the largest cost of an embedding request.
  respond: (result, parsed, _request, reply) => reply.type("application/json; charset=utf-8").send(result.body(parsed.model)),
};
