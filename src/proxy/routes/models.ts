import type { FastifyInstance } from "fastify";
import type { ProxyContext } from "../context.js";

/** A deployment as `/model/info` shows it: everything but secrets. */
export interface ModelInfoEntry {
  model_name: string;
  litellm_params: Record<string, unknown>;
  model_info: Record<string, unknown>;
}

export function modelRoutes(app: FastifyInstance, ctx: ProxyContext, modelInfo: readonly ModelInfoEntry[]): void {
  const created = Math.floor(Date.now() / 1000);
  const list = {
    object: "list",
    data: ctx.resolver.publicNames().map((id) => ({ id, object: "model", created, owned_by: "xgate" })),
  };
  for (const url of ["/v1/models", "/models"]) app.get(url, async () => list);
  for (const url of ["/model/info", "/v1/model/info"]) app.get(url, async () => ({ data: modelInfo }));
}
