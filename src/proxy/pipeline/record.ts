/**
 * The record stage: what a request did, in its response headers (`x-xgate-*`) and its one log line — id,
 * route, model, group, deployment, status, total and upstream milliseconds; never bodies or keys.
 */
import type { FastifyReply, FastifyRequest } from "fastify";
import type { Logger } from "pino";
import type { RequestTrace } from "./context.js";
import type { Dispatched } from "./dispatch.js";

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

/** The request's one log line. */
export function logRequest(logger: Logger, request: FastifyRequest, status: number, elapsedMs: number): void {
  const trace = request.trace;
  logger.info({
    request_id: request.id,
    method: request.method,
    route: request.routeOptions.url ?? "(unknown)",
    status,
    ms: tenths(elapsedMs),
    ...(trace && {
      model: trace.model,
      model_group: trace.group,
      deployment: trace.deployment,
      upstream_ms: tenths(trace.upstreamMs),
    }),
  });
}
