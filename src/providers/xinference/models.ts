/** Xinference's model management, as much of it as the gateway needs: list running models, launch one. */
import type { CallOptions } from "../../types.js";
import { createUpstreamClient } from "../../upstream/client.js";
import { resolveTarget } from "../../upstream/target.js";
import type { ConnectionDefaults } from "../../upstream/target.js";
import { isRecord, unexpectedResponse } from "../shape.js";
import type { LaunchModelSpec, ProviderModel } from "../types.js";
import { LABEL, PROVIDER } from "./constants.js";
import { xinferenceError } from "./errors.js";

export const CONNECTION: ConnectionDefaults = {
  provider: PROVIDER,
  label: LABEL,
  apiBaseEnv: "XINFERENCE_API_BASE",
  apiKeyEnv: "XINFERENCE_API_KEY",
  defaultApiBase: "http://127.0.0.1:9997/v1",
  exampleApiBase: "http://127.0.0.1:9997/v1",
};

function toModel(entry: unknown, i: number): ProviderModel {
  if (!isRecord(entry) || typeof entry.id !== "string") throw unexpectedResponse(PROVIDER, LABEL, `data[${i}] has no id`);
  const model: ProviderModel = {
    id: entry.id,
    model_type: typeof entry.model_type === "string" ? entry.model_type : undefined,
    model_name: typeof entry.model_name === "string" ? entry.model_name : undefined,
    raw: entry,
  };
  if (typeof entry.dimensions === "number") model.dimensions = entry.dimensions;
  if (Array.isArray(entry.model_ability)) {
    model.model_ability = entry.model_ability.filter((a): a is string => typeof a === "string");
  }
  return model;
}

/**
 * The models running at the target (`GET /v1/models`).
 *
 * @example
 * const models = await xinference.listModels({ api_base: "http://127.0.0.1:9997/v1" });
 * models.filter((m) => m.model_type === "embedding").map((m) => m.id);
 */
export async function listModels(target: CallOptions): Promise<ProviderModel[]> {
  const client = createUpstreamClient(resolveTarget(CONNECTION, target), xinferenceError);
  const json = await client.send({ method: "GET", path: "/models" });
  if (!isRecord(json) || !Array.isArray(json.data)) throw unexpectedResponse(PROVIDER, LABEL, "no `data` list");
  return json.data.map(toModel);
}

/**
 * Launches a model (`POST /v1/models`, which waits until it is ready) and resolves with its uid. Needs an
 * admin token when Xinference's auth is on (API keys get 403).
 *
 * @example
 * const uid = await xinference.launchModel({}, { model_name: "bge-base-en", model_type: "embedding" });
 */
export async function launchModel(target: CallOptions, spec: LaunchModelSpec): Promise<string> {
  // No retries unless asked: a launch that timed out may still be running, and a second one would fail on the uid.
  const client = createUpstreamClient(resolveTarget(CONNECTION, target, {}, 0), xinferenceError);
  const json = await client.send({ method: "POST", path: "/models", json: spec });
  if (!isRecord(json) || typeof json.model_uid !== "string") throw unexpectedResponse(PROVIDER, LABEL, "no `model_uid`");
  return json.model_uid;
}
