import type { FastifyInstance } from "fastify";
import type { ModelResolver } from "../model-resolver.js";
import type { ModelInfoEntry } from "../settings.js";

export function modelRoutes(app: FastifyInstance, resolver: ModelResolver, modelInfo: readonly ModelInfoEntry[]): void {
  const created = Math.floor(Date.now() / 1000);
  const list = {
    object: "list",
    data: resolver.publicNames().map((id) => ({ id, object: "model", created, owned_by: "xgate" })),
  };
  for (const url of ["/v1/models", "/models"]) app.get(url, async () => list);
  for (const url of ["/model/info", "/v1/model/info"]) app.get(url, async () => ({ data: modelInfo }));
}
