// What a route handler gets and returns. Handlers build a Reply instead of writing to the socket, so that the
// server can apply body faults (truncate, stall-body) to any route's real answer.
import type { Engine } from "./engine.js";
import type { ModelRegistry } from "./registry.js";
import type { MultipartForm } from "./multipart.js";
import type { RecordedRequest } from "./types.js";
import type { ParsedJson } from "./validate.js";
import type { Principal } from "./auth.js";

export interface BodyReply {
  status: number;
  contentType: string;
  headers?: Record<string, string>;
  body: string | Buffer;
}

/** Server-sent events: each chunk is written as it is produced. */
export interface StreamReply {
  status: number;
  contentType: string;
  headers?: Record<string, string>;
  chunks: AsyncIterable<string>;
}

export type Reply = BodyReply | StreamReply;

export interface RouteContext {
  registry: ModelRegistry;
  engine: Engine;
  principal: Principal;
  record: RecordedRequest;
  query: URLSearchParams;
  /** The rest of the path after /v1/models/, decoded (uids may contain "/"). */
  uid: string | undefined;
  json: ParsedJson;
  form: MultipartForm;
}

export type RouteHandler = (ctx: RouteContext) => Promise<Reply>;

export function jsonReply(value: unknown, status = 200): BodyReply {
  return { status, contentType: "application/json", body: JSON.stringify(value) };
}
