/**
 * Turns anything thrown while serving a request into the OpenAI error body
 * `{"error": {"message", "type", "param", "code"}}` with the right status, and installs the handlers that
 * do so for every route, for requests that match none, and for URLs Fastify refuses before routing.
 * Errors on the connection itself, before there is a request, are client-errors.ts's.
 */
import type { Socket } from "node:net";
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Logger } from "pino";
import { APIError } from "../../errors.js";
import { errorBody, type ErrorBody, reportedStatus } from "../../openai/errors.js";
import { megabytes } from "../files/form-errors.js";
import { BUDGET_EXCEEDED } from "../budgets/errors.js";
import { LIMIT_CODES, LimitExceededError } from "../limits/errors.js";
import { rateLimitHeaders } from "../limits/quota.js";
import { type RequestDone, requestDone } from "../pipeline/record.js";

export interface HttpError {
  status: number;
  body: ErrorBody;
  headers: Record<string, string>;
}

/** What messages about the proxy's limits name. */
export interface ErrorLimits {
  bodyLimitBytes: number;
}

/** An answer the proxy wrote on a connection before closing it (client-errors.ts), for the log line of the request in flight there. */
export interface Refusal {
  status: number;
  code: string;
}

const refusals = new WeakMap<Socket, Refusal>();

export function noteRefusal(socket: Socket, refusal: Refusal): void {
  refusals.set(socket, refusal);
}

/** Fastify's own errors (body parsing, limits, URLs) carry a `statusCode` and an `FST_…` code. */
interface FastifyLikeError {
  statusCode?: number;
  code?: string;
  message?: string;
}

interface KnownError {
  code: string;
  message: (limits: ErrorLimits) => string;
}

const FASTIFY_CODES: Record<string, KnownError> = {
  FST_ERR_CTP_BODY_TOO_LARGE: {
    code: "payload_too_large",
    message: (limits) =>
      `The request body is larger than the proxy's limit of ${megabytes(limits.bodyLimitBytes)} ` +
      "(general_settings.max_request_size_mb): send less, or raise the limit.",
  },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    code: "unsupported_media_type",
    message: () => "Unsupported Content-Type; send application/json (or multipart/form-data for image edits, transcriptions and translations).",
  },
  FST_ERR_CTP_EMPTY_JSON_BODY: { code: "invalid_json", message: () => "Request body is empty; send a JSON object." },
  FST_ERR_CTP_INVALID_JSON_BODY: { code: "invalid_json", message: () => "Request body is not valid JSON; send a JSON object." },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: {
    code: "invalid_content_length",
    message: () => "The body is not as long as its Content-Length says: send the body's exact length in bytes, or let the HTTP client set it.",
  },
  FST_ERR_BAD_URL: {
    code: "invalid_url",
    message: () =>
      "The URL's path is not valid percent-encoding: every % must start an escape of two hex digits (%20, %2F). " +
      "Encode the path's parts with encodeURIComponent (or your client's equivalent).",
  },
  FST_ERR_MAX_PARAM_LENGTH: {
    code: "uri_too_long",
    message: () =>
      "A part of the URL's path is longer than 100 characters, longer than any name xgate serves (hosted image names are " +
      "under 50): use the image URL exactly as xgate answered it.",
  },
};

/**
 * Answers whose cause waiting does not cure (every deployment misconfigured, a limit that admits nothing, a
 * budget spent): OpenAI clients retry every 5xx and 429 unless told not to, so these say
 * `x-should-retry: false`, which the `openai` client honours.
 */
const NOT_WORTH_RETRYING: ReadonlySet<string> = new Set(["no_deployment_usable", LIMIT_CODES.allowsNothing, BUDGET_EXCEEDED]);

export function toHttpError(err: unknown, limits: ErrorLimits): HttpError {
  if (err instanceof APIError) {
    // Upstream failures are reported to clients as gateway errors: the upstream's 500 is our 500, a refused connection our 502.
    const status = reportedStatus(err);
    const headers: Record<string, string> = {};
    if (err.retryAfterMs !== undefined) headers["retry-after"] = String(Math.max(1, Math.ceil(err.retryAfterMs / 1000)));
    if (NOT_WORTH_RETRYING.has(err.code)) headers["x-should-retry"] = "false";
    // A limit's 429 says what is left of the limits, as every answer that passed them does.
    if (err instanceof LimitExceededError) Object.assign(headers, rateLimitHeaders([err.quota]));
    return { status, headers, body: errorBody(status, err.message, err.code, err.param, err.type) };
  }
  const fe = err as FastifyLikeError;
  if (typeof fe?.statusCode === "number" && fe.statusCode >= 400 && fe.statusCode < 500) {
    const known = fe.code ? FASTIFY_CODES[fe.code] : undefined;
    const message = known?.message(limits) ?? fe.message ?? "Bad request";
    return { status: fe.statusCode, headers: {}, body: errorBody(fe.statusCode, message, known?.code ?? "invalid_request", null) };
  }
  return {
    status: 500,
    headers: {},
    body: errorBody(500, "Internal error in xgate; the request id in x-request-id finds it in the logs.", "internal_error", null),
  };
}

/** Sends an error answer and notes its code for the request's log line. */
function sendError(request: FastifyRequest, reply: FastifyReply, http: HttpError): FastifyReply {
  (request.trace ??= {}).errorCode = http.body.error.code;
  return reply.code(http.status).headers(http.headers).send(http.body);
}

/**
 * Fastify's `frameworkErrors`: a URL it refuses before routing (bad percent-encoding, an over-long path
 * part). No hook has run for these, so the request id header and the log line are written here.
 */
export function frameworkErrorHandler(done: RequestDone, limits: ErrorLimits) {
  return (err: FastifyError, request: FastifyRequest, reply: FastifyReply): void => {
    reply.header("x-request-id", request.id);
    reply.raw.once("finish", () => done(request, reply.statusCode, reply.elapsedTime));
    void sendError(request, reply, toHttpError(err, limits));
  };
}

/**
 * The error handler every route shares, and the 404 for requests that match no route. `done` hears of a
 * request whose client left, for which onResponse never runs: by default its log line alone.
 */
export function installErrorHandlers(app: FastifyInstance, logger: Logger, limits: ErrorLimits, done: RequestDone = requestDone(logger)): void {
  app.setErrorHandler(async (err, request, reply) => {
    // A client that went away mid-request is not an error of ours: its upstream call was cancelled, and
    // nobody is left to read an answer. 499 (nginx's "client closed request") marks it in the log line,
    // unless the proxy itself closed the connection with an answer (a body too slow, or cut): that answer's.
    // onResponse never runs for it, so its line is written here.
    if (request.raw.socket?.destroyed || reply.raw.destroyed) {
      const refusal = refusals.get(request.raw.socket);
      (request.trace ??= {}).errorCode = refusal?.code ?? "client_closed_request";
      done(request, refusal?.status ?? 499, reply.elapsedTime);
      return reply.code(499).send();
    }
    const http = toHttpError(err, limits);
    if (http.body.error.code === "internal_error") {
      logger.error({ request_id: request.id, err: { message: (err as Error).message, stack: (err as Error).stack } }, "unhandled error");
    }
    return sendError(request, reply, http);
  });

  app.setNotFoundHandler(async (request, reply) =>
    sendError(request, reply, {
      status: 404,
      headers: {},
      body: errorBody(
        404,
        `No route ${request.method} ${request.url.split("?")[0]}. xgate serves POST /v1/embeddings, /v1/images/generations, ` +
          "/v1/images/edits, /v1/rerank, /v1/chat/completions, /v1/completions, /v1/audio/transcriptions, /v1/audio/translations, " +
          "/v1/audio/speech and GET /v1/models, /model/info, /health; with a master key, the admin routes /key/*, /team/*, " +
          "/spend/logs and /global/spend.",
        "route_not_found",
        null,
      ),
    }),
  );
}
