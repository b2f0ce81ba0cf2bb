/**
 * Where a request's key is, and the master key check. Clients send the key the way their SDK does:
 * `Authorization: Bearer`, or the `x-api-key` / `api-key` / `x-litellm-api-key` headers (Anthropic-style and
 * Azure-style clients).
 *
 * The presented key is hashed once (SHA-256): the master key is compared by its digest, which makes the
 * comparison constant-time whatever the lengths, and the same digest in hex is a virtual key's `token`.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";

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

/** SHA-256 of a presented key: compared with the master key's, and (in hex) a virtual key's token. */
export function keyDigest(value: string): Buffer {
  return createHash("sha256").update(value).digest();
}

/** Whether a presented key's digest is the master key's, in constant time. */
export type MasterKeyMatch = (digest: Buffer) => boolean;

export function masterKeyMatch(masterKey: string): MasterKeyMatch {
  const expected = keyDigest(masterKey);
  return (digest) => timingSafeEqual(digest, expected);
}
