/**
 * The authenticate stage. It runs on the headers alone, before the body is read, so that a request without
 * a valid key costs no body parsing, no upload spooling and no upstream work. Routes marked `public`
 * (liveness, readiness, hosted images) skip it.
 */
import type { FastifyRequest } from "fastify";
import { masterKeyCheck } from "../auth/master-key.js";

declare module "fastify" {
  interface FastifyContextConfig {
    /** Served without a key. */
    public?: boolean;
  }
}

/** Throws AuthenticationError for a request that needs a key and lacks the right one; a no-op on an open proxy. */
export function authenticator(masterKey: string | undefined): (request: FastifyRequest) => void {
  const check = masterKeyCheck(masterKey);
  if (!check.enabled) return () => undefined;
  return (request) => {
    // A request that matches no route gets its 404, which names the routes anyway.
    if (request.routeOptions.url === undefined || request.routeOptions.config.public === true) return;
    check.verify(request.headers);
  };
}
