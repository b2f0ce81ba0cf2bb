/**
 * The seam between the routes and the router: a route says which model the client asked for and how to
 * call one deployment; the dispatcher resolves the model, picks deployments, retries and falls back.
 */
import type { CallOptions } from "../types.js";

/** One deployment, as a call to it needs it. Secrets stay in here and never reach a response or a log. */
export interface DeploymentTarget {
  id: string;
  group: string;
  /** Provider model string to call, e.g. `xinference/bge-base-en` (a wildcard already filled in). */
  model: string;
  api_base?: string;
  api_key?: string;
  /** Per-attempt timeout, in seconds. */
  timeout: number;
  /** Other `litellm_params` of the deployment, passed to the provider as extras. */
  extras: Record<string, unknown>;
}

export interface DispatchOutcome<T> {
  result: T;
  group: string;
  deploymentId: string;
  attempts: number;
  fallbackUsed: boolean;
  /** Time spent waiting on the deployment that answered. */
  upstreamMs: number;
}

export type DeploymentCall<T> = (target: DeploymentTarget, signal: AbortSignal) => Promise<T>;

export interface Dispatcher {
  dispatch<T>(requestedModel: string, call: DeploymentCall<T>, signal: AbortSignal): Promise<DispatchOutcome<T>>;
  /** Throws a 400 when the model's servers report it cannot do this image edit, before any GPU work. */
  assertCanEdit(requestedModel: string, withMask: boolean): void;
}

/** The SDK call options for one attempt on one deployment: the router owns retries, so the SDK makes none. */
export function callOptionsFor(target: DeploymentTarget, signal: AbortSignal, dropParams: boolean): CallOptions {
  return {
    api_base: target.api_base,
    api_key: target.api_key,
    timeout: target.timeout,
    num_retries: 0,
    drop_params: dropParams,
    signal,
  };
}
