// Bearer auth as Xinference enforces it when auth is on: API keys may list, describe and run models (optionally
// only some uids); launching and terminating needs an admin token.
import { detailError } from "./errors.js";
import type { ApiKeySpec } from "./types.js";

export interface Principal {
  admin: boolean;
  /** The uids an API key is restricted to; undefined means every model. */
  models: ReadonlySet<string> | undefined;
}

const EVERYTHING: Principal = { admin: true, models: undefined };

export class Authenticator {
  private readonly principals = new Map<string, Principal>();

  constructor(apiKeys: readonly (string | ApiKeySpec)[], adminTokens: readonly string[]) {
    for (const entry of apiKeys) {
      const spec = typeof entry === "string" ? { key: entry } : entry;
      this.principals.set(spec.key, {
        admin: false,
        models: spec.models === undefined ? undefined : new Set(spec.models),
      });
    }
    for (const token of adminTokens) this.principals.set(token, EVERYTHING);
  }

  get enabled(): boolean {
    return this.principals.size > 0;
  }

  /** The caller behind an Authorization header; 401 + WWW-Authenticate: Bearer when missing or unknown. */
  authenticate(authorization: string | undefined): Principal {
    if (!this.enabled) return EVERYTHING;
    const match = /^\s*bearer\s+(\S+)\s*$/i.exec(authorization ?? "");
    const principal = match?.[1] === undefined ? undefined : this.principals.get(match[1]);
    if (principal === undefined) {
      throw detailError(401, "Could not validate credentials", { "WWW-Authenticate": "Bearer" });
    }
    return principal;
  }
}

export function requireAdmin(principal: Principal): void {
  if (!principal.admin) throw detailError(403, "Not enough permissions");
}

export function checkModelAccess(principal: Principal, uid: string): void {
  if (principal.models !== undefined && !principal.models.has(uid)) {
    throw detailError(403, `API key does not have access to model: ${uid}`);
  }
}
