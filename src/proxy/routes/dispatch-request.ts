/**
 * Runs a client's request through the dispatcher: cancels upstream work when the client goes away, and
 * records which group and deployment answered for the log line and the response headers.
 */
import type { FastifyReply, FastifyRequest } from "fastify";
import type { ProxyContext } from "../context.js";
import type { DeploymentCall } from "../dispatch.js";

export async function dispatchRequest<T>(
  ctx: ProxyContext,
  request: FastifyRequest,
  reply: FastifyReply,
  model: string,
  call: DeploymentCall<T>,
): Promise<T> {
  const controller = new AbortController();
  const onClose = (): void => {
    if (!reply.raw.writableFinished) controller.abort(new Error("client closed the connection"));
  };
  reply.raw.once("close", onClose);
  const trace = (request.trace ??= {});
  trace.model = model;
  try {
    const outcome = await ctx.dispatcher.dispatch(model, call, controller.signal);
    trace.group = outcome.group;
    trace.deployment = outcome.deploymentId;
    trace.upstreamMs = outcome.upstreamMs;
    reply.header("x-xgate-model-group", outcome.group);
    reply.header("x-xgate-deployment", outcome.deploymentId);
    if (outcome.attempts > 1) reply.header("x-xgate-attempts", String(outcome.attempts));
    if (outcome.fallbackUsed) reply.header("x-xgate-fallback", "true");
    return outcome.result;
  } finally {
    reply.raw.off("close", onClose);
  }
}
