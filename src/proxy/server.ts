/**
 * Assembles the proxy: Fastify with auth, request ids, one log line per request, the OpenAI error shape,
 * and the routes. Knows nothing of any provider: routes reach upstreams only through the dispatcher.
 */
import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import multipart from "@fastify/multipart";
import Fastify, { type FastifyInstance, type FastifyRequest } from "fastify";
import type { Logger } from "pino";
import { masterKeyCheck } from "./auth/master-key.js";
import type { ProxyContext } from "./context.js";
import { errorBody, toHttpError } from "./errors.js";
import { embeddingRoutes } from "./routes/embeddings.js";
import { type HealthCheck, healthRoutes } from "./routes/health.js";
import { hostedImageRoutes } from "./routes/hosted-images.js";
import { imageRoutes } from "./routes/images.js";
import { type ModelInfoEntry, modelRoutes } from "./routes/models.js";
import { rerankRoutes } from "./routes/rerank.js";

export interface ProxyServerOptions {
  ctx: ProxyContext;
  masterKey: string | undefined;
  logger: Logger;
  bodyLimitBytes: number;
  /** Time a client has to send its request headers. */
  headersTimeoutMs: number;
  /** Time a client has to send its whole request, body included. */
  requestTimeoutMs: number;
  modelInfo: readonly ModelInfoEntry[];
  health: HealthCheck;
  describeStore: () => string;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

declare module "fastify" {
  interface FastifyContextConfig {
    /** Served without a key. */
    public?: boolean;
  }
}

export interface ProxyServer {
  app: FastifyInstance;
  /** Requests whose response is not yet done (finished, or its connection gone). */
  activeRequests(): number;
}

export async function createProxyServer(options: ProxyServerOptions): Promise<ProxyServer> {
  const { ctx, logger } = options;
  const app = Fastify({
    logger: false,
    bodyLimit: options.bodyLimitBytes,
    // Node checks these deadlines every connectionsCheckingInterval (30 s by default): check each second, so
    // a client that trickles its headers or body is cut off near its deadline, not up to 30 s after it.
    serverFactory: (handler) =>
      createServer(
        {
          headersTimeout: options.headersTimeoutMs,
          requestTimeout: options.requestTimeoutMs,
          connectionsCheckingInterval: 1000,
        },
        handler,
      ),
    // In-flight requests finish on close; idle keep-alive sockets are closed at once.
    forceCloseConnections: "idle",
    return503OnClosing: true,
    routerOptions: { ignoreTrailingSlash: true },
    genReqId: (req) => {
      const sent = req.headers["x-request-id"];
      return typeof sent === "string" && REQUEST_ID.test(sent) ? sent : randomUUID();
    },
  });
  app.decorateRequest("trace", null);

  await app.register(multipart, { throwFileSizeLimit: true });

  // Counted so that a graceful stop knows when every answer is out: a keep-alive connection can outlive its
  // request, and waiting on connections instead would wait for clients to hang up.
  let active = 0;
  const auth = masterKeyCheck(options.masterKey);
  app.addHook("onRequest", async (request, reply) => {
    active++;
    reply.raw.once("close", () => active--);
    reply.header("x-request-id", request.id);
    if (auth.enabled && request.routeOptions.url !== undefined && !request.routeOptions.config.public) {
      auth.verify(request.headers);
    }
  });

  const logRequest = (request: FastifyRequest, status: number, elapsedMs: number): void => {
    const trace = request.trace;
    logger.info({
      request_id: request.id,
      method: request.method,
      route: request.routeOptions.url ?? "(unknown)",
      status,
      ms: Math.round(elapsedMs * 10) / 10,
      ...(trace && {
        model: trace.model,
        model_group: trace.group,
        deployment: trace.deployment,
        upstream_ms: trace.upstreamMs === undefined ? undefined : Math.round(trace.upstreamMs * 10) / 10,
      }),
    });
  };
  app.addHook("onResponse", async (request, reply) => logRequest(request, reply.statusCode, reply.elapsedTime));

  app.setErrorHandler(async (err, request, reply) => {
    // A client that went away mid-request is not an error of ours: its upstream call was cancelled, and
    // nobody is left to read an answer. 499 (nginx's "client closed request") marks it in the log line.
    // onResponse never runs for it, so its line is written here.
    if (request.raw.socket?.destroyed || reply.raw.destroyed) {
      logRequest(request, 499, reply.elapsedTime);
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

  embeddingRoutes(app, ctx);
  imageRoutes(app, ctx);
  rerankRoutes(app, ctx);
  hostedImageRoutes(app, ctx);
  modelRoutes(app, ctx, options.modelInfo);
  healthRoutes(app, options.health, options.describeStore);
  return { app, activeRequests: () => active };
}
