/**
 * Turns anything thrown while serving a request into the OpenAI error body
 * `{"error": {"message", "type", "param", "code"}}` with the right status, and installs the handlers that
 * do so for every route and for requests that match none.
 */
import type { FastifyInstance } from "fastify";
import type { Logger } from "pino";
import { APIError, errorTypeForStatus } from "../../errors.js";
import { logRequest } from "../pipeline/record.js";

export interface ErrorBody {
  error: { message: string; type: string; param: string | null; code: string };
}

export interface HttpError {
  status: number;
  body: ErrorBody;
  headers: Record<string, string>;
}

/** Fastify's own errors (body parsing, limits, timeouts) carry a `statusCode` and an `FST_…` code. */
interface FastifyLikeError {
  statusCode?: number;
  code?: string;
  message?: string;
}

const FASTIFY_CODES: Record<string, { code: string; message?: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: {
    code: "payload_too_large",
    message: "Request body is larger than the limit; raise general_settings.max_request_size_mb or send less.",
  },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    code: "unsupported_media_type",
    message: "Unsupported Content-Type; send application/json (or multipart/form-data for image edits).",
  },
  FST_ERR_CTP_EMPTY_JSON_BODY: { code: "invalid_json", message: "Request body is empty; send a JSON object." },
  FST_ERR_CTP_INVALID_JSON_BODY: { code: "invalid_json", message: "Request body is not valid JSON; send a JSON object." },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { code: "invalid_request", message: "Content-Length does not match the body." },
  FST_ERR_REQUEST_TIMEOUT: { code: "request_timeout", message: "The request body did not arrive in time." },
};

/** Upstream failures are reported to clients as gateway errors: the upstream's 500 is our 500, a refused connection our 502. */
function statusForApiError(err: APIError): number {
  if (err.status !== undefined) return err.status;
  return err.code === "upstream_timeout" ? 504 : 502;
}

export function toHttpError(err: unknown): HttpError {
  if (err instanceof APIError) {
    const status = statusForApiError(err);
    const headers: Record<string, string> = {};
    if (err.retryAfterMs !== undefined) headers["retry-after"] = String(Math.max(1, Math.ceil(err.retryAfterMs / 1000)));
    return { status, headers, body: errorBody(status, err.message, err.code, err.param) };
  }
  const fe = err as FastifyLikeError;
  if (typeof fe?.statusCode === "number" && fe.statusCode >= 400 && fe.statusCode < 500) {
    const known = fe.code ? FASTIFY_CODES[fe.code] : undefined;
    const message = known?.message ?? fe.message ?? "Bad request";
    return { status: fe.statusCode, headers: {}, body: errorBody(fe.statusCode, message, known?.code ?? "invalid_request", null) };
  }
  return {
    status: 500,
    headers: {},
    body: errorBody(500, "Internal error in xgate; the request id in x-request-id finds it in the logs.", "internal_error", null),
  };
}

export function errorBody(status: number, message: string, code: string, param: string | null): ErrorBody {
  return { error: { message, type: errorTypeForStatus(status), param, code } };
}

/** The error handler every route shares, and the 404 for requests that match no route. */
export function installErrorHandlers(app: FastifyInstance, logger: Logger): void {
  app.setErrorHandler(async (err, request, reply) => {
    // A client that went away mid-request is not an error of ours: its upstream call was cancelled, and
    // nobody is left to read an answer. 499 (nginx's "client closed request") marks it in the log line.
    // onResponse never runs for it, so its line is written here.
    if (request.raw.socket?.destroyed || reply.raw.destroyed) {
      logRequest(logger, request, 499, reply.elapsedTime);
      return reply.code(499).send();
    }
    const http = toHttpError(err);
    if (http.body.error.code === "internal_error") {
      logger.error({ request_id: request.id, err: { message: (err as Error).message, stack: (err as Error).stack } }, "unhandled error");
    }
    return reply.code(http.status).headers(http.headers).send(http.body);
  });

  app.setNotFoundHandler(async (request, reply) =>
    reply
      .code(404)
      .send(
        errorBody(
          404,
          `No route ${request.method} ${request.url.split("?")[0]}. xgate serves POST /v1/embeddings, /v1/images/generations, ` +
            "/v1/images/edits, /v1/rerank and GET /v1/models, /model/info, /health.",
          "route_not_found",
          null,
        ),
      ),
  );
}
