/**
 * What one request asks of the cache: LiteLLM's `cache` object in the body (`no-cache`, `no-store`, `ttl`,
 * `namespace`) and the `Cache-Control: no-cache` / `no-store` request header. The parse stage keeps the body's
 * `cache` away from the upstream; it is read here, from the body as the client sent it.
 */
import type { FastifyRequest } from "fastify";
import { BadRequestError, PermissionDeniedError } from "../../errors.js";

/** The controls as LiteLLM names them, in the body and in a key's `allowed_cache_controls`. */
interface AskedControls {
  "no-cache"?: true;
  "no-store"?: true;
  ttl?: number;
  namespace?: string;
}

export type CacheControlName = keyof AskedControls;
const NAMES: readonly CacheControlName[] = ["no-cache", "no-store", "ttl", "namespace"];

export interface CacheControls {
  /** Answer from entries (false: `no-cache`, every input goes upstream). */
  read: boolean;
  /** Keep what the upstream answers (false: `no-store`). */
  store: boolean;
  /** Seconds the entries written for this request live, instead of the configured TTL. */
  ttlSeconds: number | undefined;
  /** Replaces the configured namespace, for reads and writes. */
  namespace: string | undefined;
}

/**
 * Which controls a caller may use; undefined: all of them. With virtual keys, this answers a key's
 * `allowed_cache_controls` for the request's key.
 */
export type AllowedCacheControls = (request: FastifyRequest) => ReadonlySet<CacheControlName> | undefined;

export const allControlsAllowed: AllowedCacheControls = () => undefined;

function invalid(message: string): BadRequestError {
  return new BadRequestError(message, { param: "cache", code: "invalid_cache_control" });
}

export function isCacheControlName(key: string): key is CacheControlName {
  return (NAMES as readonly string[]).includes(key);
}

function bodyControls(value: unknown): AskedControls {
  const asked: AskedControls = {};
  if (value === undefined || value === null) return asked;
  if (typeof value !== "object" || Array.isArray(value)) {
    throw invalid('cache must be an object such as {"no-cache": true, "no-store": true, "ttl": 600, "namespace": "team-a"}.');
  }
  for (const [key, setting] of Object.entries(value as Record<string, unknown>)) {
    if (!isCacheControlName(key)) throw invalid(`cache.${key} is not a cache control xgate knows; use ${NAMES.map((name) => `"${name}"`).join(", ")}.`);
    if (key === "ttl") {
      if (typeof setting !== "number" || !Number.isFinite(setting) || setting <= 0) throw invalid("cache.ttl must be a number of seconds above 0.");
      asked.ttl = setting;
    } else if (key === "namespace") {
      if (typeof setting !== "string" || setting === "") throw invalid("cache.namespace must be a non-empty string.");
      asked.namespace = setting;
    } else {
      if (typeof setting !== "boolean") throw invalid(`cache["${key}"] must be true or false.`);
      if (setting) asked[key] = true;
    }
  }
  return asked;
}

/** The request's controls; a 400 for a malformed `cache` object, a 403 for a control the caller may not use. */
export function cacheControls(request: FastifyRequest, allowed: AllowedCacheControls): CacheControls {
  const asked = bodyControls((request.body as Record<string, unknown>).cache);
  const header = request.headers["cache-control"];
  for (const directive of (Array.isArray(header) ? header.join(",") : (header ?? "")).split(",")) {
    const name = directive.trim().toLowerCase();
    if (name === "no-cache" || name === "no-store") asked[name] = true;
  }
  const permitted = allowed(request);
  const refused = permitted === undefined ? undefined : (Object.keys(asked) as CacheControlName[]).find((name) => !permitted.has(name));
  if (refused !== undefined) {
    throw new PermissionDeniedError(`This key may not use the cache control '${refused}'; ask an admin to add it to the key's allowed_cache_controls.`, {
      param: "cache",
      code: "cache_control_not_allowed",
    });
  }
  return { read: !asked["no-cache"], store: !asked["no-store"], ttlSeconds: asked.ttl, namespace: asked.namespace };
}
