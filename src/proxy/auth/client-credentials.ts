/**
 * Refuses requests that try to choose where or with what credentials xgate calls upstream.
 * A client-supplied `api_base` once let LiteLLM users send the provider's key to a server of the
 * attacker's choosing; later the same was smuggled through nested `extra_body` or `metadata`.
 * So the whole body is searched, at any depth.
 */
import { BadRequestError } from "../../errors.js";

const CREDENTIAL_KEYS = new Set([
  "api_base",
  "base_url",
  "api_key",
  "api_version",
  "organization",
  "aws_access_key_id",
  "aws_secret_access_key",
  "vertex_credentials",
  "azure_ad_token",
  "extra_headers",
]);

/** Bounded so that a deeply nested body cannot make the scan itself a problem. */
const MAX_DEPTH = 32;

function findCredentialPath(value: unknown, path: string, depth: number): string | undefined {
  if (depth > MAX_DEPTH || value === null || typeof value !== "object") return undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (item !== null && typeof item === "object") {
        const found = findCredentialPath(item, `${path}[${i}]`, depth + 1);
        if (found) return found;
      }
    }
    return undefined;
  }
  for (const key of Object.keys(value)) {
    const keyPath = path ? `${path}.${key}` : key;
    if (CREDENTIAL_KEYS.has(key.toLowerCase())) return keyPath;
    const child = (value as Record<string, unknown>)[key];
    if (child !== null && typeof child === "object") {
      const found = findCredentialPath(child, keyPath, depth + 1);
      if (found) return found;
    }
  }
  return undefined;
}

/** Throws a 400 naming the offending field; never echoes its value. */
export function rejectClientCredentials(body: unknown): void {
  const path = findCredentialPath(body, "", 0);
  if (path !== undefined) {
    throw new BadRequestError(
      `'${path}' is not allowed in a request: upstream endpoints and credentials come from the proxy's config. ` +
        "An operator can allow them with general_settings.allow_client_side_credentials: true.",
      { code: "client_credentials_not_allowed", param: path },
    );
  }
}
