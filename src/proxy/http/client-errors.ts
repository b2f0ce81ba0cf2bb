/**
 * Fastify's `clientErrorHandler`: what Node's HTTP parser refuses on a connection (malformed framing,
 * headers too large, a client too slow to send its request) answered in the OpenAI error shape, as a whole
 * HTTP/1.1 response written on the raw socket, which is then closed: after a framing error nothing more on
 * it can be trusted. Codes are Node's (`HPE_…` from llhttp, `ERR_HTTP_REQUEST_TIMEOUT`).
 */
import { randomUUID } from "node:crypto";
import { maxHeaderSize, type ServerResponse, STATUS_CODES } from "node:http";
import type { Socket } from "node:net";
import type { ConnectionError } from "fastify";
import type { Logger } from "pino";
import { logRefusedConnection } from "../pipeline/record.js";
import type { ServerSettings } from "../settings.js";
import { errorBody } from "../../openai/errors.js";
import { type HttpError, noteRefusal } from "./errors.js";
import { requestId } from "./request-id.js";

/** The response a socket is carrying, as Node's own clientError fallback reads it: once its headers are out, nothing else may be written. */
function inFlightResponse(socket: Socket): ServerResponse | undefined {
  return (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage ?? undefined;
}

function refusal(status: number, code: string, message: string): HttpError {
  return { status, headers: {}, body: errorBody(status, message, code, null) };
}

const SEND_VALID_HTTP = "Send a well-formed HTTP/1.1 request (let the HTTP client frame it rather than writing it by hand).";

/** What a parser error or timeout means for the client, and what to do about it. */
export function connectionErrorAnswer(err: ConnectionError, server: ServerSettings, requestStarted: boolean): HttpError {
  const reason = (err as ConnectionError & { reason?: string }).reason ?? err.message;
  switch (err.code) {
    case "ERR_HTTP_REQUEST_TIMEOUT":
      return requestStarted
        ? refusal(
            408,
            "request_timeout",
            `The request body did not arrive within ${server.requestTimeoutMs / 1000} s ` +
              "(general_settings.request_body_timeout_seconds): send it without pauses, or raise that setting.",
          )
        : refusal(
            408,
            "request_timeout",
            `The request headers did not arrive within ${server.headersTimeoutMs / 1000} s ` +
              "(general_settings.request_header_timeout_seconds): send them at once, or raise that setting.",
          );
    case "HPE_HEADER_OVERFLOW":
      return refusal(
        431,
        "headers_too_large",
        `The request line and headers are larger than ${Math.round(maxHeaderSize / 1024)} KB, the most xgate reads: ` +
          "send fewer or smaller headers (a large cookie or token is the usual cause).",
      );
    case "HPE_CHUNK_EXTENSIONS_OVERFLOW":
      return refusal(413, "chunk_extensions_too_large", `The chunked body's chunk extensions are too large (${reason}). ${SEND_VALID_HTTP}`);
    case "HPE_UNEXPECTED_CONTENT_LENGTH":
    case "HPE_INVALID_TRANSFER_ENCODING":
      return refusal(
        400,
        "ambiguous_body_length",
        `The request's length is ambiguous (${reason}): send one Content-Length, or Transfer-Encoding: chunked, never both ` +
          "nor two of either.",
      );
    case "HPE_INVALID_CONTENT_LENGTH":
      return refusal(400, "invalid_content_length", `The Content-Length header is not a number of bytes (${reason}). ${SEND_VALID_HTTP}`);
    case "HPE_INVALID_CHUNK_SIZE":
      return refusal(
        400,
        "malformed_chunked_body",
        `The chunked body is malformed (${reason}): each chunk starts with its size in hex, then CRLF, and a 0-size chunk ends the body.`,
      );
    case "HPE_INVALID_EOF_STATE":
      return refusal(
        400,
        "incomplete_request",
        "The connection ended before the request was complete (the body stopped short of its length or its last chunk): send the whole request.",
      );
    case "HPE_INVALID_METHOD":
      return refusal(400, "malformed_request", `The request's method is not an HTTP method (${reason}). ${SEND_VALID_HTTP}`);
    case "HPE_INVALID_URL":
      return refusal(400, "invalid_url", `The request's URL is malformed (${reason}): percent-encode spaces and non-ASCII characters.`);
    default:
      return refusal(400, "malformed_request", `The request is not valid HTTP/1.1 (${reason}). ${SEND_VALID_HTTP}`);
  }
}

/** The whole response, framed by hand: there is no ServerResponse for a request Node could not parse. */
export function rawResponse(http: HttpError, requestId: string): string {
  const body = JSON.stringify(http.body);
  return (
    `HTTP/1.1 ${http.status} ${STATUS_CODES[http.status] ?? "Error"}\r\n` +
    "Content-Type: application/json; charset=utf-8\r\n" +
    `Content-Length: ${Buffer.byteLength(body)}\r\n` +
    `x-request-id: ${requestId}\r\n` +
    "Connection: close\r\n\r\n" +
    body
  );
}

export function clientErrorHandler(server: ServerSettings, logger: Logger): (err: ConnectionError, socket: Socket) => void {
  return (err, socket) => {
    // A reset connection has nobody to answer.
    if (err.code === "ECONNRESET" || socket.destroyed) return;
    const inFlight = inFlightResponse(socket);
    if (!socket.writable || inFlight?.headersSent === true) {
      socket.destroy(err);
      return;
    }
    const http = connectionErrorAnswer(err, server, inFlight !== undefined);
    // A request in flight has its id, and writes its own log line when it sees the socket close.
    const id = inFlight === undefined ? randomUUID() : requestId(inFlight.req);
    socket.write(rawResponse(http, id));
    if (inFlight === undefined) {
      logRefusedConnection(logger, { requestId: id, status: http.status, errorCode: http.body.error.code, cause: err.code });
    } else noteRefusal(socket, { status: http.status, code: http.body.error.code });
    socket.destroy(err);
  };
}
