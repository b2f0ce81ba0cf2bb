/**
 * OpenAI's `GET /v1/models`: ids only (`{"data": [{"id", "object", "owned_by"}]}`), with no model type and no
 * abilities, which the gateway's checks then treat as unknown, letting requests through for the server to
 * decide. OpenAI's API has no call to launch a model.
 */
import { BadRequestError } from "../../errors.js";
import type { CallOptions } from "../../types.js";
import { createUpstreamClient } from "../../upstream/client.js";
import { type ConnectionDefaults, resolveTarget } from "../../upstream/target.js";
import { isRecord, unexpectedResponse } from "../shape.js";
import type { ProviderModel } from "../types.js";
import { openAIError } from "./errors.js";

/** The models the server at the target serves. */
export async function listModels(connection: ConnectionDefaults, target: CallOptions): Promise<ProviderModel[]> {
  const client = createUpstreamClient(resolveTarget(connection, target), openAIError);
  const json = await client.send({ method: "GET", path: "/models" });
  const bad = (what: string): Error => unexpectedResponse(connection.provider, connection.label, what);
  if (!isRecord(json) || !Array.isArray(json.data)) throw bad("no `data` list");
  return json.data.map((entry: unknown, i): ProviderModel => {
    if (!isRecord(entry) || typeof entry.id !== "string") throw bad(`data[${i}] has no id`);
    return { id: entry.id, model_type: undefined, model_name: undefined, raw: entry };
  });
}

export function launchModel(connection: ConnectionDefaults): Promise<string> {
  return Promise.reject(
    new BadRequestError(
      `${connection.label}s have no API to launch models: start the model on the server itself (for vLLM, \`vllm serve <model>\`), ` +
        "and leave model_info.auto_launch out of its deployments.",
      { provider: connection.provider, param: "auto_launch", code: "launch_unsupported" },
    ),
  );
}
