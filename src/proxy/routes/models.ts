import type { FastifyInstance, FastifyRequest } from "fastify";
import { mayCall, modelsFor } from "../auth/virtual-key.js";
import type { ModelResolver } from "../model-resolver.js";
import type { ModelInfoEntry } from "../settings.js";

/** A model a wildcard deployment reaches, as its server lists it. */
export interface ReachedModel {
  /** The name a client asks for it by. */
  id: string;
  model_type?: string;
  model_ability?: readonly string[];
}

/**
 * `/v1/models`: the model names clients may use. Behind wildcard deployments (`xinference/*`), also every
 * model their servers have launched, with its type and abilities, so clients can discover what to call;
 * `reached` gives those (undefined without wildcards: the list is then fixed).
 */
export function modelRoutes(
  app: FastifyInstance,
  resolver: ModelResolver,
  modelInfo: readonly ModelInfoEntry[],
  reached?: () => Promise<readonly ReachedModel[]>,
): void {
  const created = Math.floor(Date.now() / 1000);
  const named = resolver.publicNames().map((id) => ({ id, object: "model", created, owned_by: "xgate" }));
  const all = async (): Promise<ReadonlyArray<{ id: string }>> => {
    if (reached === undefined) return named;
    const names = new Set(named.map((m) => m.id));
    const more = (await reached())
      .filter((model) => !names.has(model.id))
      .map(({ id, model_type, model_ability }) => ({ id, object: "model", created, owned_by: "xgate", model_type, model_ability }));
    return [...named, ...more];
  };
  // A virtual key sees only the models it may call, and its own aliases.
  const list = async (request: FastifyRequest): Promise<unknown> => ({ object: "list", data: modelsFor(request.principal, await all()) });
  for (const url of ["/v1/models", "/models"]) app.get(url, list);
  // The deployments behind the models a virtual key may call, and no others: their servers are not its business.
  const info = async (request: FastifyRequest): Promise<unknown> => ({ data: modelInfo.filter((entry) => mayCall(request.principal, entry.model_name)) });
  for (const url of ["/model/info", "/v1/model/info"]) app.get(url, info);
}
