/**
 * Request ids: always xgate's own, a fresh UUID per request. The id keys the request's spend row (a row is
 * written once per id), so it must never be the client's to choose: a client that sent the same
 * `x-request-id` twice would have its second request skipped as a duplicate and charged nothing. The
 * client's own `x-request-id`, when it is a sane token, is kept in the log line as `client_request_id`.
 * Kept per request, so that an answer the connection's error handler writes for a request in flight
 * (client-errors.ts) carries the id the request's log line has.
 */
import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";

const CLIENT_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const ids = new WeakMap<IncomingMessage, string>();

export function requestId(req: IncomingMessage): string {
  let id = ids.get(req);
  if (id === undefined) {
    id = randomUUID();
    ids.set(req, id);
  }
  return id;
}

/** The client's `x-request-id`, for the log line; undefined when it sent none, or one that is not a plain token. */
export function clientRequestId(req: IncomingMessage): string | undefined {
  const sent = req.headers["x-request-id"];
  return typeof sent === "string" && CLIENT_REQUEST_ID.test(sent) ? sent : undefined;
}
