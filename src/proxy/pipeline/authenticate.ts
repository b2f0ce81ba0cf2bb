/**
 * The authenticate stage. It runs on the headers alone, before the body is read, so that a request without
 * a valid key costs no body parsing, no upload spooling and no upstream work. Routes marked `public`
 * (liveness, readiness, hosted images) skip it; every other route leaves it with `request.principal` set:
 * `open` on a proxy without a master key, `master` for the master key, `virtual` for a virtual key.
 *
 * The hot path is one SHA-256 of the presented key, a constant-time comparison with the master key's, and
 * (for a virtual key) a Map lookup in the key cache: no promise unless the cache must read the store.
 * A value that does not start with `sk-` is refused without a lookup, as LiteLLM does, so that nobody can
 * authenticate with a stored hash.
 */
import type { FastifyRequest } from "fastify";
import { missingKey, unknownKey } from "../auth/errors.js";
import { keyDigest, keyFromHeaders, masterKeyMatch } from "../auth/master-key.js";
import { MASTER, OPEN, type VirtualKey } from "../auth/principal.js";
import { checkVirtualKey } from "../auth/virtual-key.js";
import type { KeyCache } from "../keys/cache.js";
import { looksLikeVirtualKey } from "../keys/tokens.js";

declare module "fastify" {
  interface FastifyContextConfig {
    /** Served without a key. */
    public?: boolean;
  }
}


/** Sets `request.principal`, or throws the 401 (or, when the key store fails, the 503) that refuses the request. */
export type Authenticate = (request: FastifyRequest) => void | Promise<void>;

/**
 * `keys`: the key cache, when the store is open; without it only the master key is accepted. Returns a
 * promise only when the key had to be read from the store: await what it returns.
 */
export function authenticator(masterKey: string | undefined, keys?: KeyCache): Authenticate {
  if (!masterKey) {
    return (request) => {
      if (needsKey(request)) request.principal = OPEN;
    };
  }
  const isMaster = masterKeyMatch(masterKey);
  const admit = (request: FastifyRequest, key: VirtualKey | null, now: number): void => {
    if (key === null) throw unknownKey();
    checkVirtualKey(key, now);
    request.principal = { kind: "virtual", key };
  };
  return (request) => {
    if (!needsKey(request)) return;
    const presented = keyFromHeaders(request.headers);
    if (presented === undefined) throw missingKey();
    const digest = keyDigest(presented);
    if (isMaster(digest)) {
      request.principal = MASTER;
      return;
    }
    if (keys === undefined || !looksLikeVirtualKey(presented)) throw unknownKey();
    const found = keys.lookup(digest.toString("hex"));
    if (found instanceof Promise) return found.then((key) => admit(request, key, keys.clock.now()));
    admit(request, found, keys.clock.now());
  };
}

/** A request that matches no route gets its 404 (which names the routes anyway); public routes need no key. */
function needsKey(request: FastifyRequest): boolean {
  return request.routeOptions.url !== undefined && request.routeOptions.config.public !== true;
}
