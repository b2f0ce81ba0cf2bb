/**
 * The 401s of the authenticate stage and of model access, in one place so that each case has one wording.
 * `type` is LiteLLM's word for the case (clients coming from it switch on it), `code` xgate's stable code.
 * A key is named by its alias or its `sk-...abcd` name, never by its value or its hash.
 */
import { AuthenticationError } from "../../errors.js";
import type { KeyRecord } from "../store/index.js";

/** LiteLLM's `type` for a key it does not accept. */
const AUTH_ERROR = "auth_error";

/** How messages name a key. */
export function keyLabel(record: Pick<KeyRecord, "key_alias" | "key_name">): string {
  return `'${record.key_alias ?? record.key_name ?? "(unnamed)"}'`;
}

export function missingKey(): AuthenticationError {
  return new AuthenticationError("No API key. Send the proxy's key as 'Authorization: Bearer <key>' (or in an x-api-key header).", {
    code: "missing_api_key",
  });
}

/** A value that is neither the master key nor any virtual key (also: a regenerated key past its grace period). */
export function unknownKey(): AuthenticationError {
  return new AuthenticationError(
    "Invalid API key: it is neither the proxy's master key nor a virtual key of this proxy. Check the key you send " +
      "(virtual keys start with 'sk-' and are answered once by /key/generate).",
    { code: "invalid_api_key", type: AUTH_ERROR },
  );
}

export function keyBlocked(record: KeyRecord): AuthenticationError {
  return new AuthenticationError(`Key ${keyLabel(record)} is blocked. An admin can unblock it with POST /key/unblock.`, {
    code: "key_blocked",
    type: AUTH_ERROR,
  });
}

export function keyExpired(record: KeyRecord, expires: Date): AuthenticationError {
  return new AuthenticationError(
    `Key ${keyLabel(record)} expired at ${expires.toISOString()}. An admin can extend it with POST /key/update ('expires' or ` +
      "'duration'), or make a new key with /key/generate.",
    { code: "key_expired", type: "expired_key" },
  );
}

/** `allowed`: the names the key (or its team) may use, as set on it. */
export function modelAccessDenied(record: KeyRecord, model: string, denier: { team: string } | "key", allowed: readonly string[]): AuthenticationError {
  const who = denier === "key" ? `Key ${keyLabel(record)}` : `Key ${keyLabel(record)} is in team '${denier.team}', which`;
  const scope = denier === "key" ? "It" : "The team";
  return new AuthenticationError(`${who} may not use model '${model}'. ${scope} may use: ${allowed.join(", ")}.`, {
    code: "model_access_denied",
    // LiteLLM's types: which of the two said no.
    type: denier === "key" ? "key_model_access_denied" : "team_model_access_denied",
    param: "model",
  });
}
