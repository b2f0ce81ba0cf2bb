/**
 * Turning a client's request body into the SDK's parameters: checks that the body is an object with a
 * `model`, refuses smuggled credentials, and drops what only the gateway decides.
 */
import { BadRequestError } from "../../errors.js";
import { rejectClientCredentials } from "../auth/client-credentials.js";
import type { ProxyContext } from "../context.js";
import { callOptionsFor, type DeploymentTarget } from "../dispatch.js";

/** Keys a client may not set: the proxy's config decides timeouts and retries, and signals are ours. */
const GATEWAY_ONLY_KEYS = [
  "timeout",
  "num_retries",
  "max_retries",
  "signal",
  "metadata",
  "cache",
  "mock_response",
  "drop_params",
  // The SDK's chunking knobs: the operator's to set, not a client's (a client could fan one call out widely).
  "max_batch_size",
  "max_concurrency",
];

export interface ClientRequest {
  model: string;
  params: Record<string, unknown>;
  /** The client asked to drop unsupported parameters for this request. */
  dropParams: boolean;
}

export function asObject(body: unknown, route: string): Record<string, unknown> {
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    throw new BadRequestError(`${route} takes a JSON object body with Content-Type: application/json.`, {
      code: "invalid_json",
    });
  }
  return body as Record<string, unknown>;
}

export function clientRequest(fields: Record<string, unknown>, ctx: ProxyContext): ClientRequest {
  const model = fields.model;
  if (typeof model !== "string" || model.trim() === "") {
    throw new BadRequestError("'model' is required: a model name from GET /v1/models.", { param: "model" });
  }
  if (!ctx.allowClientCredentials) rejectClientCredentials(fields);
  const params: Record<string, unknown> = { ...fields };
  delete params.model;
  for (const key of GATEWAY_ONLY_KEYS) delete params[key];
  // Python clients send provider extras as a literal `extra_body` object; the openai npm client merges them itself.
  const extraBody = params.extra_body;
  delete params.extra_body;
  if (extraBody !== null && typeof extraBody === "object" && !Array.isArray(extraBody)) Object.assign(params, extraBody);
  return { model, params, dropParams: fields.drop_params === true || ctx.dropParams };
}

const CLIENT_CREDENTIAL_OPTIONS = ["api_base", "api_key", "base_url"];

/**
 * The SDK parameters for one attempt on one deployment: the deployment's extras, then the client's
 * parameters, then the call options. Client credentials only reach here when the operator allowed them.
 */
export function sdkParams(
  req: ClientRequest,
  target: DeploymentTarget,
  signal: AbortSignal,
  ctx: ProxyContext,
): Record<string, unknown> & { model: string } {
  const merged: Record<string, unknown> = { ...target.extras, ...req.params, ...callOptionsFor(target, signal, req.dropParams) };
  if (ctx.allowClientCredentials) {
    for (const key of CLIENT_CREDENTIAL_OPTIONS) if (req.params[key] !== undefined) merged[key] = req.params[key];
    if (typeof req.params.base_url === "string") merged.api_base = req.params.base_url;
    delete merged.base_url;
  }
  return { ...merged, model: target.model };
}
