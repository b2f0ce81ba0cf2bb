import type { Embeddings, EmbeddingsRequest } from "../../operations/index.js";
import { embeddings } from "../../operations/index.js";
import { asObject, type OperationRoute } from "../pipeline/index.js";

export const embeddingsRoute: OperationRoute<EmbeddingsRequest, Embeddings> = {
  urls: ["/v1/embeddings", "/embeddings"],
  operation: embeddings,
  read: (request) => ({ fields: asObject(request.body, "POST /v1/embeddings") }),
  // Clients expect the model name they asked for, not the upstream uid. Written as bytes, not returned as
  // objects: serialising a batch's floats again was the largest cost of an embedding request.
  respond: (result, parsed, _request, reply) => reply.type("application/json; charset=utf-8").send(result.json(parsed.model)),
};
