// What a route handler gets and returns. Handlers build a Reply instead of writing to the socket, so that the
// server can apply body faults (truncate, stall-body) to any route's real answer.
import type { Engine } from "./engine.js";
import type { ModelRegistry } from "./registry.js";
import type { MultipartForm } from "./multipart.js";
import type { Fault, Flavor, RecordedRequest } from "./types.js";
import type { ParsedJson } from "./validate.js";
import type { Principal } from "./auth.js";

export interface BodyReply {
  status: number;
  contentType: string;
  headers?: Record<string, string>;
  body: string | Buffer;
}

/** Server-sent events (or a raw byte stream): each chunk is written as it is produced. */
export interface StreamReply {
  status: number;
  contentType: string;
  headers?: Record<string, string>;
  chunks: AsyncIterable<string | Buffer>;
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
  /** Which server the emulator plays. */
  flavor: Flavor;
  pacing: Pacing;
  /** Aborted when the connection closes before the reply has been sent in full (client gone, emulator closed). */
  signal: AbortSignal;
  /** The fault this request drew; the streaming routes apply the stream-* kinds themselves. */
  fault: Fault | undefined;
  /**
   * Ends the connection once what was written has left: with an RST ("reset", ECONNRESET), or a close in the
   * middle of the body. Resolves when the socket is gone.
   */
  dropConnection: (how: "reset" | "close") => Promise<void>;
}

export interface Pacing {
  /** Engine time before the first token. */
  computeDelayMs: number;
  /** Time between two tokens of a stream (or two chunks of streamed audio). */
  tokenDelayMs: number;
  /** sse-starlette's ping interval (Xinference streams only). */
  pingIntervalMs: number;
}

export type RouteHandler = (ctx: RouteContext) => Promise<Reply>;

export function jsonReply(value: unknown, status = 200): BodyReply {
  return { status, contentType: "application/json", body: JSON.stringify(value) };
}
