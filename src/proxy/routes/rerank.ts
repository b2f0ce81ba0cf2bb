import type { FastifyInstance } from "fastify";
import { rerank } from "../../index.js";
import type { RerankParams } from "../../types.js";
import type { ProxyContext } from "../context.js";
import { dispatchRequest } from "./dispatch-request.js";
import { asObject, clientRequest, sdkParams } from "./params.js";

export function rerankRoutes(app: FastifyInstance, ctx: ProxyContext): void {
  for (const url of ["/v1/rerank", "/rerank", "/v2/rerank"]) {
    app.post(url, async (request, reply) => {
      const req = clientRequest(asObject(request.body, "POST /v1/rerank"), ctx);
      return dispatchRequest(ctx, request, reply, req.model, (target, signal) =>
        rerank(sdkParams(req, target, signal, ctx) as RerankParams),
      );
    });
  }
}
