/**
 * The parse stage: a client's body to an operation's typed request, with every check on client input done
 * here, before anything is routed. Bounds how deeply the body nests, refuses smuggled credentials, keeps
 * out what only the gateway decides, merges a Python client's `extra_body`, then hands the rest to the
 * operation's own `parse`.
 */
import { BadRequestError } from "../../errors.js";
import type { Operation, RawParams } from "../../operations/index.js";
import { rejectClientCredentials } from "../auth/client-credentials.js";

/** Keys a client may not set: the proxy's config decides timeouts and retries, and signals are ours. */
const GATEWAY_ONLY_KEYS: ReadonlySet<string> = new Set([
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
  // Merged into the parameters below; never a parameter itself.
  "extra_body",
]);

/** Deeper JSON than any real request needs; a deeper one would make every later walk of it a risk. */
export const MAX_JSON_DEPTH = 64;

/** Where and with what key to call, when the operator lets clients say (`allow_client_side_credentials`). */
export interface ClientConnection {
  apiBase?: string;
  apiKey?: string;
}

export interface ParsedRequest<Request> {
  /** The model the request goes to: the client's, or what its key's alias for it names. */
  model: string;
  /** The model the client asked for, when a key alias replaced it in `model`. */
  asked?: string;
  request: Request;
  /** The client asked to drop unsupported parameters (or the config does). */
  dropParams: boolean;
  client: ClientConnection | undefined;
}

export interface ParseOptions {
  /** `litellm_settings.drop_params`. */
  dropParams: boolean;
  allowClientCredentials: boolean;
}

/** How deeply a value nests, walking only containers, without recursion (so a hostile body cannot overflow it). */
function nestingExceeds(value: unknown, limit: number): boolean {
  const stack: { value: object; depth: number }[] = [];
  if (value !== null && typeof value === "object") stack.push({ value, depth: 1 });
  while (stack.length > 0) {
    const { value: current, depth } = stack.pop() as { value: object; depth: number };
    if (depth > limit) return true;
    for (const child of Array.isArray(current) ? current : Object.values(current)) {
      if (child !== null && typeof child === "object") stack.push({ value: child as object, depth: depth + 1 });
    }
  }
  return false;
}

export function asObject(body: unknown, route: string): Record<string, unknown> {
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    throw new BadRequestError(`${route} takes a JSON object body with Content-Type: application/json.`, {
      code: "invalid_json",
    });
  }
  if (nestingExceeds(body, MAX_JSON_DEPTH)) {
    throw new BadRequestError(`The request body nests deeper than ${MAX_JSON_DEPTH} levels; send a flatter JSON object.`, {
      code: "invalid_json",
    });
  }
  return body as Record<string, unknown>;
}

function optionalText(fields: RawParams, key: string): string | undefined {
  const value = fields[key];
  if (value === undefined || value === null || value === "") return undefined;
  if (typeof value !== "string") throw new BadRequestError(`${key} must be a string.`, { param: key });
  return value;
}

function clientConnection(fields: RawParams): ClientConnection | undefined {
  const apiBase = optionalText(fields, "base_url") ?? optionalText(fields, "api_base");
  const apiKey = optionalText(fields, "api_key");
  if (apiBase !== undefined) {
    let url: URL | undefined;
    try {
      url = new URL(apiBase);
    } catch {
      url = undefined;
    }
    if (url === undefined || (url.protocol !== "http:" && url.protocol !== "https:")) {
      throw new BadRequestError("api_base must be an http(s) URL.", { param: "api_base" });
    }
  }
  return apiBase === undefined && apiKey === undefined ? undefined : { apiBase: apiBase?.replace(/\/+$/, ""), apiKey };
}

/**
 * @example
 * const parsed = parseRequest(embeddings, asObject(request.body, "POST /v1/embeddings"), undefined, settings);
 * parsed.request.items.length; // the inputs, checked
 */
export function parseRequest<Request>(
  operation: Operation<Request, unknown>,
  fields: Record<string, unknown>,
  files: Record<string, unknown> | undefined,
  options: ParseOptions,
): ParsedRequest<Request> {
  const model = fields.model;
  if (typeof model !== "string" || model.trim() === "") {
    throw new BadRequestError("'model' is required: a model name from GET /v1/models.", { param: "model" });
  }
  if (!options.allowClientCredentials) rejectClientCredentials(fields);
  // Copied without what only the gateway decides (built, not deleted from: deleting keys slows every later read).
  const params: Record<string, unknown> = {};
  for (const key in fields) if (!GATEWAY_ONLY_KEYS.has(key)) params[key] = fields[key];
  // Python clients send provider extras as a literal `extra_body` object; the openai npm client merges them itself.
  const extraBody = fields.extra_body;
  if (extraBody !== null && typeof extraBody === "object" && !Array.isArray(extraBody)) Object.assign(params, extraBody);
  const client = options.allowClientCredentials ? clientConnection(params) : undefined;
  if ("base_url" in params) delete params.base_url;
  return {
    model,
    // The operation ignores call options (api_base, api_key…): they never reach the provider as extras.
    request: operation.parse(files === undefined ? params : { ...params, ...files }),
    dropParams: fields.drop_params === true || options.dropParams,
    client,
  };
}
