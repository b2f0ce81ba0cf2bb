/**
 * Virtual key values, as LiteLLM makes and keeps them: a key is `sk-` and 16 random bytes in base64url; the
 * store keeps only its SHA-256 hex (the `token`), and shows it as `key_name`, `sk-...` and its last four
 * characters. A presented value that does not start with `sk-` is never looked up, so nobody can
 * authenticate with a stored hash.
 */
import { createHash, randomBytes } from "node:crypto";

export const VIRTUAL_KEY_PREFIX = "sk-";

/** A new key value; shown to its caller once, never stored. */
export function generateKey(): string {
  return `${VIRTUAL_KEY_PREFIX}${randomBytes(16).toString("base64url")}`;
}

/** The hash a key is stored and looked up by. */
export function hashKey(key: string): string {
  return createHash("sha256").update(key).digest("hex");
}

/** `sk-...abcd`: how lists and logs may show a key. */
export function keyName(key: string): string {
  return `${VIRTUAL_KEY_PREFIX}...${key.slice(-4)}`;
}

/** Whether a presented value could be a virtual key at all. */
export function looksLikeVirtualKey(value: string): boolean {
  return value.startsWith(VIRTUAL_KEY_PREFIX) && value.length > VIRTUAL_KEY_PREFIX.length;
}
