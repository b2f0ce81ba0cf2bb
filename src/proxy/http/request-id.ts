/**
 * Request ids: the client's own `x-request-id` when it is a sane token, else a fresh UUID. Kept per
 * request, so that an answer the connection's error handler writes for a request in flight (client-errors.ts)
 * carries the id the request's log line has.
 */
import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const ids = new WeakMap<IncomingMessage, string>();

export function requestId(req: IncomingMessage): string {
  let id = ids.get(req);
  if (id === undefined) {
    const sent = req.headers["x-request-id"];
    id = typeof sent === "string" && REQUEST_ID.test(sent) ? sent : randomUUID();
    ids.set(req, id);
  }
  return id;
}
