/**
 * The master key check. Clients send the key the way their SDK does: `Authorization: Bearer`, or the
 * `x-api-key` / `api-key` / `x-litellm-api-key` headers (Anthropic-style and Azure-style clients).
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import { AuthenticationError } from "../../errors.js";

const KEY_HEADERS = ["x-api-key", "api-key", "x-litellm-api-key"] as const;

export function keyFromHeaders(headers: IncomingHttpHeaders): string | undefined {
  const authorization = headers.authorization;
  if (typeof authorization === "string" && authorization.length > 0) {
    const match = /^Bearer\s+(.+)$/i.exec(authorization.trim());
    return match ? match[1]!.trim() : authorization.trim();
  }
  for (const name of KEY_HEADERS) {
    const value = headers[name];
    if (typeof value === "string" && value.length > 0) return value.trim();
  }
  return undefined;
}

/** Hashing both sides first makes the comparison constant-time whatever the lengths. */
function digest(value: string): Buffer {
  return createHash("sha256").update(value).digest();
}

export interface MasterKeyCheck {
  /** Throws AuthenticationError unless the headers carry the master key. A no-op in open mode. */
  verify(headers: IncomingHttpHeaders): void;
  readonly enabled: boolean;
}

export function masterKeyCheck(masterKey: string | undefined): MasterKeyCheck {
  if (!masterKey) return { enabled: false, verify: () => undefined };
  const expected = digest(masterKey);
  return {
    enabled: true,
    verify(headers) {
      const presented = keyFromHeaders(headers);
      if (presented === undefined) {
        throw new AuthenticationError(
          "No API key. Send the proxy's key as 'Authorization: Bearer <key>' (or in an x-api-key header).",
          { code: "missing_api_key" },
        );
      }
      if (!timingSafeEqual(digest(presented), expected)) {
        throw new AuthenticationError("Invalid API key. Check the key you send against the proxy's master key.");
      }
    },
  };
}
