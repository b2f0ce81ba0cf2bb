/**
 * What every operation shares. An operation is one kind of call (embeddings, image generation, …) in two
 * steps: `parse` checks a client's parameters and gives the typed request, before anything is routed or sent;
 * `run` makes the request on one target. The SDK and the proxy call the same two functions: the SDK with a
 * target from its call options and the environment, the proxy with one per deployment the router picks.
 */
import type { Provider } from "../providers/index.js";
import type { UpstreamTarget } from "../upstream/target.js";

/** Where one run goes: the provider, the model's uid there, the connection, and what the deployment adds. */
export interface OperationTarget {
  provider: Provider;
  /** The model's id at the provider: the model string without its `provider/` prefix. */
  uid: string;
  /** The connection, with the attempt's signal, timeout and retries. */
  upstream: UpstreamTarget;
  /** Provider parameters the deployment's config adds (`litellm_params` that are not the gateway's); the request's own win. */
  params: Readonly<Record<string, unknown>>;
  /** Drop parameters the provider does not support instead of failing. */
  dropParams: boolean;
}

/** A parameter bag as a client or an SDK caller gives it. */
export type RawParams = Readonly<Record<string, unknown>>;

/**
 * The parameters that are the call's, not the operation's: never sent upstream. `max_retries` is LiteLLM's
 * other name for `num_retries`.
 */
export const CALL_OPTIONS: ReadonlySet<string> = new Set([
  "model",
  "api_base",
  "api_key",
  "timeout",
  "num_retries",
  "max_retries",
  "drop_params",
  "extra_headers",
  "signal",
]);

/** The provider extras: every parameter that is neither a call option nor one of the operation's own. */
export function extrasOf(params: RawParams, own: ReadonlySet<string>): Record<string, unknown> {
  const extras: Record<string, unknown> = {};
  for (const key in params) {
    const value = params[key];
    if (value === undefined || value === null || own.has(key) || CALL_OPTIONS.has(key)) continue;
    extras[key] = value;
  }
  return extras;
}

/** The deployment's parameters, then the request's: what the provider gets as extras. */
export function mergedExtras(target: OperationTarget, extras: Record<string, unknown>): Record<string, unknown> {
  for (const _key in target.params) return { ...target.params, ...extras };
  return extras;
}
