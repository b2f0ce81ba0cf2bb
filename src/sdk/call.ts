/**
 * The call path every operation shares: the provider from the model string, the upstream target (api_base,
 * api_key, timeout, retries — read from the environment at call time), and the provider extras.
 */
import { BadRequestError } from "../errors.js";
import { resolveModel } from "../providers/index.js";
import type { Provider } from "../providers/index.js";
import type { CallOptions } from "../types.js";
import { createUpstreamClient } from "../upstream/client.js";
import type { UpstreamClient } from "../upstream/client.js";
import { resolveTarget } from "../upstream/target.js";

export interface PreparedCall {
  provider: Provider;
  uid: string;
  dropParams: boolean;
  client: UpstreamClient;
}

/** Options of the call itself: never sent upstream. `max_retries` is LiteLLM's alias of `num_retries`. */
const CALL_OPTIONS = ["api_base", "api_key", "timeout", "num_retries", "max_retries", "drop_params", "extra_headers", "signal"];

/** `signal` replaces the caller's, for operations that cancel their own sub-requests. */
export function prepareCall(params: CallOptions & { model: unknown }, signal?: AbortSignal): PreparedCall {
  const { provider, uid } = resolveModel(params.model);
  const dropParams: unknown = params.drop_params;
  if (dropParams !== undefined && dropParams !== null && typeof dropParams !== "boolean") {
    throw new BadRequestError("drop_params must be true or false.", { param: "drop_params" });
  }
  const target = resolveTarget(provider.connection, signal === undefined ? params : { ...params, signal });
  return { provider, uid, dropParams: dropParams === true, client: createUpstreamClient(target, provider.toError) };
}

/** The provider extras: every parameter that is neither a call option nor one of the operation's own. */
export function extrasOf(params: Record<string, unknown>, own: readonly string[]): Record<string, unknown> {
  const extras: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === null || own.includes(key) || CALL_OPTIONS.includes(key)) continue;
    extras[key] = value;
  }
  return extras;
}
