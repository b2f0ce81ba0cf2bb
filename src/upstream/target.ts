/**
 * Where and how one call reaches its upstream: base URL, key, per-attempt timeout, retries, headers and the
 * caller's signal. The environment is the caller's to give: the SDK passes process.env at call time, the
 * proxy resolves its deployments once at start and reads none per request.
 */
import { BadRequestError } from "../errors.js";
import type { CallOptions } from "../types.js";

/**
 * A provider's fallbacks when a call gives no `api_base` / `api_key`. A provider without a default server
 * (any OpenAI-compatible one) has neither variables nor default: its calls must name their server.
 */
export interface ConnectionDefaults {
  /** Provider name as in model strings, e.g. `xinference`. */
  provider: string;
  /** How messages name the upstream, e.g. `Xinference`. */
  label: string;
  apiBaseEnv?: string;
  apiKeyEnv?: string;
  defaultApiBase?: string;
  /** An api_base for messages to show, e.g. `http://127.0.0.1:9997/v1`. */
  exampleApiBase: string;
}

export interface UpstreamTarget {
  provider: string;
  label: string;
  /** Without a trailing slash. */
  apiBase: string;
  /** Sent as `Authorization: Bearer` only when set. */
  apiKey: string | undefined;
  /** Per attempt; Infinity for none. */
  timeoutMs: number;
  numRetries: number;
  /** Lower-cased names. */
  extraHeaders: Record<string, string>;
  signal: AbortSignal | undefined;
}

export const DEFAULT_TIMEOUT_S = 600;
export const DEFAULT_NUM_RETRIES = 2;

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === "" ? undefined : value;
}

function optionalString(options: CallOptions, key: "api_base" | "api_key"): string | undefined {
  const value: unknown = options[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") throw new BadRequestError(`${key} must be a string.`, { param: key });
  return nonEmpty(value);
}

/** A URL as it may appear in messages: without user info, which could hold a password. */
export function displayUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = "";
    parsed.password = "";
    return parsed.toString().replace(/\/$/, "");
  } catch {
    return "(invalid URL)";
  }
}

/** Environment variables, as the caller chooses to pass them. */
export type Environment = Readonly<Record<string, string | undefined>>;

function fromEnv(env: Environment, name: string | undefined): string | undefined {
  return name === undefined ? undefined : nonEmpty(env[name]);
}

/** The provider's default server, for a call that names none; a 400 naming api_base when it has none. */
export function fallbackApiBase(defaults: ConnectionDefaults): string {
  if (defaults.defaultApiBase !== undefined) return defaults.defaultApiBase;
  throw new BadRequestError(
    `api_base is required for ${defaults.provider}/ models: the URL of the ${defaults.label}'s API, e.g. ${defaults.exampleApiBase}.`,
    { param: "api_base", provider: defaults.provider },
  );
}

function resolveApiBase(defaults: ConnectionDefaults, options: CallOptions, env: Environment): string {
  const apiBase = optionalString(options, "api_base") ?? fromEnv(env, defaults.apiBaseEnv) ?? fallbackApiBase(defaults);
  let parsed: URL;
  try {
    parsed = new URL(apiBase);
  } catch {
    const source = defaults.apiBaseEnv === undefined ? "" : ` (from the call or ${defaults.apiBaseEnv})`;
    throw new BadRequestError(`api_base must be an http(s) URL such as ${defaults.exampleApiBase}${source}.`, {
      param: "api_base",
      provider: defaults.provider,
    });
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new BadRequestError(`api_base must use http or https, not ${parsed.protocol.replace(":", "")}.`, {
      param: "api_base",
      provider: defaults.provider,
    });
  }
  return apiBase.replace(/\/+$/, "");
}

function resolveTimeoutMs(timeout: unknown): number {
  if (timeout === undefined || timeout === null) return DEFAULT_TIMEOUT_S * 1000;
  if (typeof timeout !== "number" || Number.isNaN(timeout) || timeout <= 0) {
    throw new BadRequestError("timeout must be a positive number of seconds.", { param: "timeout" });
  }
  return timeout * 1000;
}

function resolveNumRetries(options: CallOptions, fallback: number): number {
  // `max_retries` is LiteLLM's other name for the same setting.
  const value: unknown = options.num_retries ?? (options as { max_retries?: unknown }).max_retries;
  if (value === undefined || value === null) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0) {
    throw new BadRequestError("num_retries must be a whole number ≥ 0.", { param: "num_retries" });
  }
  return value;
}

function resolveExtraHeaders(value: unknown): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (typeof value !== "object" || Array.isArray(value)) {
    throw new BadRequestError("extra_headers must be an object of header names to string values.", {
      param: "extra_headers",
    });
  }
  const headers: Record<string, string> = {};
  for (const [name, headerValue] of Object.entries(value)) {
    if (typeof headerValue !== "string") {
      throw new BadRequestError(`extra_headers: the value of '${name}' must be a string.`, { param: "extra_headers" });
    }
    headers[name.toLowerCase()] = headerValue;
  }
  return headers;
}

/**
 * The target of one call: call options first, then the provider's variables in `env`, then its default.
 * `defaultRetries` lets an operation that must not repeat itself (launching a model) default to none.
 */
export function resolveTarget(
  defaults: ConnectionDefaults,
  options: CallOptions,
  env: Environment = {},
  defaultRetries: number = DEFAULT_NUM_RETRIES,
): UpstreamTarget {
  const signal: unknown = options.signal;
  if (signal !== undefined && signal !== null && !(signal instanceof AbortSignal)) {
    throw new BadRequestError("signal must be an AbortSignal.", { param: "signal" });
  }
  return {
    provider: defaults.provider,
    label: defaults.label,
    apiBase: resolveApiBase(defaults, options, env),
    apiKey: optionalString(options, "api_key") ?? fromEnv(env, defaults.apiKeyEnv),
    timeoutMs: resolveTimeoutMs(options.timeout),
    numRetries: resolveNumRetries(options, defaultRetries),
    extraHeaders: resolveExtraHeaders(options.extra_headers),
    signal: signal ?? undefined,
  };
}
