/**
 * A deployment: one `model_list` entry, the unit the router picks, retries, cools down and health-checks.
 * Entries that share a `model_name` form a model group.
 */
import { createHash } from "node:crypto";
import { canonicalJson } from "../canonical-json.js";
import { isLitellmMetadataKey, isSecretKey, LITELLM_PARAMS_VOCABULARY } from "../config/deployment-keys.js";
import { type Pricing, pricingOf } from "../spend/cost.js";
import type { LitellmParamsInput, ModelEntryInput, RouterSettings } from "./config.js";

export interface Deployment {
  /** `model_info.id`, else a stable hash of the entry without its secrets; shown in `x-xgate-deployment`. */
  readonly id: string;
  /** The model group: the entry's `model_name`. */
  readonly group: string;
  /** `litellm_params.model`, e.g. `xinference/bge-base-en`. */
  readonly model: string;
  readonly apiBase: string | undefined;
  /**
   * `litellm_params.api_key`. Not enumerable, so that logging or serialising a deployment cannot leak it;
   * read it only to make the upstream call.
   */
  readonly apiKey: string | undefined;
  readonly weight: number | undefined;
  readonly rpm: number | undefined;
  readonly tpm: number | undefined;
  /** Lower orders are tried first; an entry without an order comes after every entry with one. */
  readonly order: number;
  /** One attempt's timeout: `litellm_params.timeout`, else `request_timeout`, else `router_settings.timeout`, else 600 s. */
  readonly timeoutMs: number;
  readonly maxRetries: number | undefined;
  /** The provider parameters of `litellm_params` (see `isGatewayParam`), sent with every call. */
  readonly extras: Readonly<Record<string, unknown>>;
  /** The entry's `model_info`, as configured (e.g. `mode`, `auto_launch`). */
  readonly modelInfo: Readonly<Record<string, unknown>>;
  /** What a call costs here, from `model_info` and `litellm_params` (checked when the config loaded). */
  readonly pricing: Pricing;
  /**
   * Set on a wildcard deployment made concrete for one model (see `wildcardVariant`): the configured
   * deployment's id, whose health checks it shares.
   */
  readonly variantOf: string | undefined;
}

/**
 * The `litellm_params` that are the gateway's: where and how to call, routing, limits, pricing — these, and the
 * settings the config loader knows LiteLLM reads (config/deployment-keys.ts). `isGatewayParam` is the one rule
 * that decides: everything else in `litellm_params` is a provider parameter, sent with each call.
 */
const GATEWAY_PARAMS: ReadonlySet<string> = new Set([
  "model",
  "api_base",
  "api_key",
  "rpm",
  "tpm",
  "timeout",
  "stream_timeout",
  "max_retries",
  "num_retries",
  "weight",
  "order",
  "drop_params",
  "mock_response",
  "tags",
  "max_parallel_requests",
  "max_budget",
  "budget_duration",
]);

export function isGatewayParam(key: string): boolean {
  return (
    GATEWAY_PARAMS.has(key) || LITELLM_PARAMS_VOCABULARY.settings.has(key) || isLitellmMetadataKey(key) || isSecretKey(key)
  );
}

/** The provider parameters of an entry's `litellm_params`: what is not the gateway's, without empty values. */
export function providerParams(params: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(params).filter(([key, value]) => !isGatewayParam(key) && value !== undefined && value !== null));
}

/** Where an entry's calls go: by default its own api_base and api_key, else the provider's defaults. */
export type ConnectionOf = (params: LitellmParamsInput) => { apiBase: string | undefined; apiKey: string | undefined };

const ownConnection: ConnectionOf = (params) => ({ apiBase: params.api_base ?? undefined, apiKey: params.api_key ?? undefined });

function positive(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) && value > 0 ? value : undefined;
}

function nonNegativeInt(value: unknown): number | undefined {
  return typeof value === "number" && Number.isInteger(value) && value >= 0 ? value : undefined;
}

function withoutSecrets(params: LitellmParamsInput): Record<string, unknown> {
  return Object.fromEntries(Object.entries(params).filter(([key]) => !isSecretKey(key)));
}

function hashedId(entry: ModelEntryInput): string {
  const { id: _id, ...info } = entry.model_info ?? {};
  const text = canonicalJson({ model_name: entry.model_name, litellm_params: withoutSecrets(entry.litellm_params), model_info: info });
  return createHash("sha256").update(text).digest("hex").slice(0, 16);
}

function buildDeployment(
  entry: ModelEntryInput,
  id: string,
  settings: Pick<RouterSettings, "requestTimeoutMs">,
  connectionOf: ConnectionOf,
): Deployment {
  const params = entry.litellm_params;
  const connection = connectionOf(params);
  const timeoutS = positive(params.timeout);
  const deployment: Deployment = {
    id,
    group: entry.model_name,
    model: params.model,
    apiBase: connection.apiBase,
    apiKey: undefined,
    weight: typeof params.weight === "number" && params.weight >= 0 ? params.weight : undefined,
    rpm: positive(params.rpm),
    tpm: positive(params.tpm),
    order: typeof params.order === "number" ? params.order : Number.POSITIVE_INFINITY,
    timeoutMs: timeoutS === undefined ? settings.requestTimeoutMs : timeoutS * 1000,
    maxRetries: nonNegativeInt(params.max_retries),
    extras: providerParams(params),
    modelInfo: { ...(entry.model_info ?? {}) },
    pricing: pricingOf(entry.model_info ?? undefined, params),
    variantOf: undefined,
  };
  return withApiKey(deployment, connection.apiKey);
}

function withApiKey(deployment: Deployment, apiKey: string | undefined): Deployment {
  Object.defineProperty(deployment, "apiKey", { value: apiKey, enumerable: false });
  return deployment;
}

/** Whether the deployment serves any model its `*` stands for (`model: xinference/*`). */
export function isWildcard(deployment: Deployment): boolean {
  return deployment.variantOf === undefined && deployment.model.includes("*");
}

/** Longer matches are shortened in ids, with a hash keeping them apart: ids travel in response headers. */
const MAX_MATCH_IN_ID = 128;

/**
 * `<id>/<match>`, fit for a response header and a Redis key: what the client sent is theirs to choose, so
 * anything but printable ASCII is percent-encoded (`%` too, so that distinct matches keep distinct ids).
 */
export function variantId(deploymentId: string, match: string): string {
  let shown = match.replace(/[^\x21-\x24\x26-\x7e]/gu, (c) =>
    [...Buffer.from(c, "utf8")].map((byte) => `%${byte.toString(16).toUpperCase().padStart(2, "0")}`).join(""),
  );
  if (shown.length > MAX_MATCH_IN_ID) {
    shown = `${shown.slice(0, MAX_MATCH_IN_ID - 17)}~${createHash("sha256").update(match).digest("hex").slice(0, 16)}`;
  }
  return `${deploymentId}/${shown}`;
}

/**
 * A wildcard deployment made concrete for the model a client asked for: `*` filled in, and an id of its own
 * (`<id>/<match>`), so that its cooldowns, load and latency are its own. A uid that is not launched, or a
 * model that is overloaded, then takes only itself out, not every model the wildcard serves.
 */
export function wildcardVariant(deployment: Deployment, match: string): Deployment {
  const variant: Deployment = {
    ...deployment,
    id: variantId(deployment.id, match),
    model: deployment.model.replace("*", match),
    apiKey: undefined,
    variantOf: deployment.id,
  };
  return withApiKey(variant, deployment.apiKey);
}

/**
 * The deployments of a `model_list`, in config order. Explicit ids must be unique; entries identical but for
 * their secrets hash alike, so the later ones get `-2`, `-3`… to stay distinct.
 */
export function buildDeployments(
  modelList: readonly ModelEntryInput[],
  settings: Pick<RouterSettings, "requestTimeoutMs">,
  connectionOf: ConnectionOf = ownConnection,
): Deployment[] {
  const seen = new Set<string>();
  return modelList.map((entry, index) => {
    const explicit = entry.model_info?.id;
    let id: string;
    if (typeof explicit === "string" && explicit !== "") {
      if (seen.has(explicit)) {
        throw new Error(`model_list[${index}].model_info.id '${explicit}' is used by another entry; give each entry its own id.`);
      }
      id = explicit;
    } else {
      const base = hashedId(entry);
      id = base;
      for (let n = 2; seen.has(id); n++) id = `${base}-${n}`;
    }
    seen.add(id);
    return buildDeployment(entry, id, settings, connectionOf);
  });
}
