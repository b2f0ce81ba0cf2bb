/**
 * What every admin route is made of: the store, the notifier and the time it works with, a route's
 * declaration (who may call it), and the steps they all share — reading a checked body or query, and
 * turning the store's conflicts into 400s that name the field.
 */
import type { FastifyReply, FastifyRequest } from "fastify";
import type { z } from "zod";
import { BadRequestError } from "../../../errors.js";
import type { KeyChangeNotifier } from "../../keys/events.js";
import { type Store, StoreConflictError } from "../../store/index.js";
import { parseBody, parseParams, parseQuery } from "./validation.js";

export interface AdminContext {
  store: Store;
  /** Told after every write, so that caches and budgets forget what changed. */
  notifier: KeyChangeNotifier;
  now(): Date;
  /** Whether a key is the proxy's master key (compared in constant time). */
  isMasterKey(key: string): boolean;
}

/** `master`: the master key only; `own-key`: also a virtual key, which the handler lets see only itself. */
export type Access = "master" | "own-key";

export interface AdminRoute {
  method: "GET" | "POST";
  url: string;
  access: Access;
  handle(ctx: AdminContext, request: FastifyRequest, reply: FastifyReply): Promise<unknown>;
}

/** Names the LiteLLM fields a body had that xgate ignored (see IGNORED_LITELLM_FIELDS). */
export const IGNORED_FIELDS_HEADER = "x-xgate-ignored-fields";

/** `POST /key/generate`, as messages name a route. */
export function routeName(request: FastifyRequest): string {
  return `${request.method} ${request.routeOptions.url ?? request.url.split("?", 1)[0]}`;
}

export function readBody<S extends z.ZodObject>(request: FastifyRequest, reply: FastifyReply, schema: S): z.output<S> {
  const { value, ignored } = parseBody(schema, request.body, routeName(request));
  if (ignored.length > 0) reply.header(IGNORED_FIELDS_HEADER, ignored.join(", "));
  return value;
}

export function readQuery<S extends z.ZodObject>(request: FastifyRequest, schema: S): z.output<S> {
  return parseQuery(schema, request.query, routeName(request));
}

export function readParams<S extends z.ZodObject>(request: FastifyRequest, schema: S): z.output<S> {
  return parseParams(schema, request.params, routeName(request));
}

/** What to say when a unique value is taken; `tokenParam` is the field that chose the key's value. */
function conflictError(field: StoreConflictError["field"], tokenParam: string): BadRequestError {
  switch (field) {
    case "key_alias":
      return new BadRequestError("Another key already has this key_alias: choose another, or free it first (POST /key/update on that key).", {
        code: "key_alias_taken",
        param: "key_alias",
      });
    case "token":
      return new BadRequestError(`This ${tokenParam} value is already in use: choose another sk- value, or leave ${tokenParam} out to get a generated one.`, {
        code: "key_taken",
        param: tokenParam,
      });
    case "team_id":
      return new BadRequestError("A team with this team_id already exists: choose another, or leave team_id out to get a generated one.", {
        code: "team_id_taken",
        param: "team_id",
      });
  }
}

/** Runs a store write; a value another row already has becomes a 400 naming the field. */
export async function refusingConflicts<T>(write: () => Promise<T>, tokenParam = "key"): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (error instanceof StoreConflictError) throw conflictError(error.field, tokenParam);
    throw error;
  }
}
