/**
 * The record stage: what a request did, in its response headers (`x-xgate-*`; the account writes
 * `x-ratelimit-*`) and its one log line — id, route (the path when none matched), model, group,
 * deployment, status, the error's code, total and upstream milliseconds, the cache's hits; never bodies,
 * query strings or keys. At debug level, a line per upstream attempt.
 */
import type { FastifyReply, FastifyRequest } from "fastify";
import type { Logger } from "pino";
import { APIError } from "../../errors.js";
import { clientRequestId } from "../http/request-id.js";
import type { RequestTrace } from "./context.js";
import type { AttemptObserver, Dispatched } from "./dispatch.js";

/** A path longer than this is cut in the log line: a client decides its length. */
const LOGGED_PATH_MAX = 200;

/** Notes who answered, for the log line and the response headers. */
export function recordDispatch(trace: RequestTrace, outcome: Dispatched<unknown>, reply: FastifyReply): void {
  trace.group = outcome.group;
  trace.deployment = outcome.deploymentId;
  trace.attempts = outcome.attempts;
  trace.upstreamMs = outcome.upstreamMs;
  reply.header("x-xgate-model-group", outcome.group);
  reply.header("x-xgate-deployment", outcome.deploymentId);
  if (outcome.attempts > 1) reply.header("x-xgate-attempts", String(outcome.attempts));
  if (outcome.fallbackUsed) reply.header("x-xgate-fallback", "true");
}

function tenths(ms: number | undefined): number | undefined {
  return ms === undefined ? undefined : Math.round(ms * 10) / 10;
}

/** A request's path for the log: no query string (it may carry secrets), and not unboundedly long. */
function loggedPath(url: string): string {
  const path = url.split("?", 1)[0] ?? "";
  return path.length > LOGGED_PATH_MAX ? `${path.slice(0, LOGGED_PATH_MAX)}…` : path;
}

/** The request's one log line. */
export function logRequest(logger: Logger, request: FastifyRequest, status: number, elapsedMs: number): void {
  const trace = request.trace;
  const route = request.routeOptions.url;
  const clientId = clientRequestId(request.raw);
  logger.info({
    request_id: request.id,
    ...(clientId !== undefined && { client_request_id: clientId }),
    method: request.method,
    route: route ?? "(unknown)",
    // A matched route's path may hold a capability (a hosted image's name): only unmatched paths are logged.
    ...(route === undefined && { path: loggedPath(request.url) }),
    status,
    ms: tenths(elapsedMs),
    ...(trace && {
      model: trace.model,
      model_group: trace.group,
      deployment: trace.deployment,
      upstream_ms: tenths(trace.upstreamMs),
      cache_hits: trace.cacheHits,
      tokens: trace.tokens,
      ...(trace.tokensEstimated === true && { tokens_estimated: true }),
      error_code: trace.errorCode,
    }),
  });
}

/** Told of every request once it is done — answered, refused, or its client gone — with its status and total ms. */
export type RequestDone = (request: FastifyRequest, status: number, elapsedMs: number) => void;

/** The request's log line, then `also` (the metrics), when one is given. */
export function requestDone(logger: Logger, also?: RequestDone): RequestDone {
  if (also === undefined) return (request, status, elapsedMs) => logRequest(logger, request, status, elapsedMs);
  return (request, status, elapsedMs) => {
    logRequest(logger, request, status, elapsedMs);
    also(request, status, elapsedMs);
  };
}

/**
 * Tells `done` of an answer that began but whose end was never written — its client gone mid-stream —
 * which neither onResponse (it runs when an answer finishes) nor the error handler (the route had returned)
 * hears of. Call it when the response closes; logged as 499, as nginx writes a client's leaving.
 */
export function doneIfBrokenOff(request: FastifyRequest, reply: FastifyReply, done: RequestDone): void {
  if (!reply.raw.headersSent || reply.raw.writableEnded) return;
  (request.trace ??= {}).errorCode ??= "client_closed_request";
  done(request, 499, reply.elapsedTime);
}

/** The log line of a connection refused before its request could be read (malformed HTTP, a client too slow). */
export function logRefusedConnection(
  logger: Logger,
  refused: { requestId: string; status: number; errorCode: string; cause: string },
): void {
  logger.info({ request_id: refused.requestId, route: "(unparsed)", status: refused.status, error_code: refused.errorCode, cause: refused.cause });
}

/** What an attempt's failure was, without its message (which may quote the request). */
function failureFields(error: unknown): { error_code: string; upstream_status?: number } {
  if (error instanceof APIError) return { error_code: error.code, ...(error.status !== undefined && { upstream_status: error.status }) };
  return { error_code: error instanceof Error ? error.name : "unknown" };
}

/** Debug lines for every upstream attempt and its failure; undefined when the logger is above debug, so nothing is wrapped. */
export function attemptLog(logger: Logger): AttemptObserver | undefined {
  if (!logger.isLevelEnabled("debug")) return undefined;
  return {
    started({ requestId, deployment, context }) {
      logger.debug(
        { request_id: requestId, model_group: deployment.group, deployment: deployment.id, attempt: context.attempt, timeout_ms: context.timeoutMs },
        context.attempt > 1 ? `retrying on deployment ${deployment.id}` : `calling deployment ${deployment.id}`,
      );
      return {
        failed(error, elapsedMs) {
          logger.debug(
            { request_id: requestId, deployment: deployment.id, attempt: context.attempt, ms: tenths(elapsedMs), ...failureFields(error) },
            `attempt ${context.attempt} on deployment ${deployment.id} failed`,
          );
        },
      };
    },
  };
}
