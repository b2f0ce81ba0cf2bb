/**
 * The admin API, LiteLLM's paths and shapes: `/key/*`, `/team/*`, `/spend/logs`, `/global/spend*`, `/global/activity*`. Every
 * route needs the master key, except `GET /key/info`, which a virtual key may call for itself; who is calling
 * is the authenticate stage's `request.principal`, checked here before the body is read. A proxy without a
 * master key has no store (virtual keys are off): its admin routes answer a 404 that says how to turn them on.
 *
 * @example
 * adminRoutes(app, { store, notifier: keyCache });
 */
import type { FastifyInstance, FastifyRequest } from "fastify";
import { NotFoundError, PermissionDeniedError } from "../../../errors.js";
import { keyDigest, masterKeyMatch } from "../../auth/master-key.js";
import type { KeyChangeNotifier } from "../../keys/events.js";
import type { Store } from "../../store/index.js";
import { ACTIVITY_ROUTES } from "./activity.js";
import { type Access, type AdminContext, type AdminRoute, routeName } from "./context.js";
import { KEY_ROUTES } from "./keys.js";
import { SPEND_ROUTES } from "./spend.js";
import { TEAM_ROUTES } from "./teams.js";

export interface AdminDeps {
  /** Undefined when the proxy has no master key: there are no virtual keys to manage then. */
  store: Store | undefined;
  notifier: KeyChangeNotifier;
  /**
   * Time for expiries (`duration`) and grace periods, in ms since the epoch; the store's own clock should be
   * the same one. The router's `Clock` fits (routes may not import the router, hence the shape written out).
   */
  clock?: { now(): number };
  /** Refused as a caller-chosen key: it would be taken for the master key before any lookup. */
  masterKey?: string | undefined;
}

export const ADMIN_ROUTES: readonly AdminRoute[] = [...KEY_ROUTES, ...TEAM_ROUTES, ...SPEND_ROUTES, ...ACTIVITY_ROUTES];

function keysDisabled(request: FastifyRequest): NotFoundError {
  return new NotFoundError(
    `${routeName(request)} is not served: virtual keys are off because this proxy has no master key. Set general_settings.master_key ` +
      "(a value starting with sk-; or the XGATE_MASTER_KEY environment variable) to turn on keys, teams and spend tracking.",
    { code: "virtual_keys_disabled" },
  );
}

function masterKeyNeeded(request: FastifyRequest): PermissionDeniedError {
  return new PermissionDeniedError(
    `${routeName(request)} needs the proxy's master key (general_settings.master_key); a virtual key may only read its own GET /key/info.`,
    { code: "admin_only" },
  );
}

/** Runs before the body is read: a caller refused here costs no parsing. */
function guard(access: Access) {
  return async (request: FastifyRequest): Promise<void> => {
    const principal = request.principal;
    if (principal?.kind === "master") return;
    if (principal?.kind === "virtual" && access === "own-key") return;
    // A proxy with a store has a master key, so "open" here (or no principal) means the authenticate stage is not wired: refused.
    throw masterKeyNeeded(request);
  };
}

export function adminRoutes(app: FastifyInstance, deps: AdminDeps): void {
  const { store } = deps;
  if (store === undefined) {
    for (const route of ADMIN_ROUTES) {
      app.route({
        method: route.method,
        url: route.url,
        handler: async (request) => {
          throw keysDisabled(request);
        },
      });
    }
    return;
  }
  const clock = deps.clock ?? Date;
  const isMaster = deps.masterKey ? masterKeyMatch(deps.masterKey) : () => false;
  const ctx: AdminContext = { store, notifier: deps.notifier, now: () => new Date(clock.now()), isMasterKey: (key) => isMaster(keyDigest(key)) };
  for (const route of ADMIN_ROUTES) {
    app.route({ method: route.method, url: route.url, onRequest: guard(route.access), handler: (request, reply) => route.handle(ctx, request, reply) });
  }
}
