import type { FastifyInstance } from "fastify";
import { createEmbeddings } from "../../sdk/embedding.js";
import type { EmbeddingParams } from "../../types.js";
import type { ProxyContext } from "../context.js";
import { dispatchRequest } from "./dispatch-request.js";
import { asObject, clientRequest, sdkParams } from "./params.js";

export function embeddingRoutes(app: FastifyInstance, ctx: ProxyContext): void {
  for (const url of ["/v1/embeddings", "/embeddings"]) {
    app.post(url, async (request, reply) => {
      const req = clientRequest(asObject(request.body, "POST /v1/embeddings"), ctx);
      const embeddings = await dispatchRequest(ctx, request, reply, req.model, (target, signal) =>
        createEmbeddings(sdkParams(req, target, signal, ctx) as EmbeddingParams),
      );
      // Clients expect the model name they asked for, not the upstream uid. Written as bytes, not returned as
      // objects: serialising a batch's floats again was the largest cost of an embedding request.
      return reply.type("application/json; charset=utf-8").send(embeddings.json(req.model));
    });
  }
}
