/**
 * The composition root: from a loaded config to a listening proxy. Builds the router and its health
 * checks, the image store, the routes' context and the server, and stops them all in order.
 */
import type { FastifyInstance } from "fastify";
import pino, { type Logger } from "pino";
import * as providers from "../providers/index.js";
import { stateDescription } from "./banner.js";
import type { ProxyConfig } from "./config/index.js";
import type { ProxyContext } from "./context.js";
import { ImageStore } from "./files/image-store.js";
import { cheapProbe, healthReport } from "./health-report.js";
import { ModelResolver } from "./model-resolver.js";
import { createRouter, modelServerClient } from "./router/index.js";
import { RouterDispatcher } from "./router-dispatcher.js";
import type { ModelInfoEntry } from "./routes/models.js";
import { createProxyServer } from "./server.js";

export interface StartOptions {
  host: string;
  port: number;
  logLevel?: string;
  /** A logger of the caller's; by default JSON lines on stdout. */
  logger?: Logger;
}

export interface RunningProxy {
  url: string;
  app: FastifyInstance;
  /** Stops accepting, lets in-flight requests finish within the grace period, then releases everything. */
  close(): Promise<void>;
}

const MB = 1024 * 1024;
const SECRET_PARAM = /key|secret|password|token|credential/i;

function modelInfoOf(config: ProxyConfig): ModelInfoEntry[] {
  return config.model_list.map((entry) => ({
    model_name: entry.model_name,
    litellm_params: Object.fromEntries(Object.entries(entry.litellm_params).filter(([key]) => !SECRET_PARAM.test(key))),
    model_info: { ...entry.model_info },
  }));
}

/** Resolves once nothing is in flight, or when the time is up. */
async function untilIdle(active: () => number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (active() > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
}

export async function startProxy(config: ProxyConfig, options: StartOptions): Promise<RunningProxy> {
  // Asynchronous writes keep a slow stdout reader off the request path; close() flushes what is left.
  const logger =
    options.logger ?? pino({ level: options.logLevel ?? "info", base: undefined }, pino.destination({ dest: 1, sync: false }));
  const general = config.general_settings;
  const masterKey = general.master_key ?? process.env.XGATE_MASTER_KEY;

  const { router, health, ready, close: closeRouter } = createRouter(config, {
    logger,
    servers: modelServerClient(providers),
    probe: cheapProbe,
  });
  // Redis first: until it is connected, requests would route without the shared state.
  await ready();
  await health.start();

  const images = new ImageStore({ ttlSeconds: general.image_url_ttl_seconds });
  const maxBytes = Math.floor(general.max_request_size_mb * MB);
  const resolver = new ModelResolver(config.model_list, config.router_settings.model_group_alias);
  const ctx: ProxyContext = {
    dispatcher: new RouterDispatcher(router, health, resolver),
    resolver,
    images,
    dropParams: config.litellm_settings.drop_params,
    allowClientCredentials: general.allow_client_side_credentials,
    publicBaseUrl: general.public_base_url,
    uploadLimits: { maxFileBytes: maxBytes, maxTotalBytes: maxBytes, maxFiles: 16 },
  };

  const { app, activeRequests } = await createProxyServer({
    ctx,
    masterKey,
    logger,
    bodyLimitBytes: maxBytes,
    headersTimeoutMs: general.request_header_timeout_seconds * 1000,
    requestTimeoutMs: general.request_body_timeout_seconds * 1000,
    modelInfo: modelInfoOf(config),
    health: () => healthReport(router, health),
    describeStore: () => stateDescription(config),
  });

  const sweeper = setInterval(() => void images.sweep(), 60_000);
  sweeper.unref();

  await app.listen({ host: options.host, port: options.port });
  const address = app.server.address();
  const port = typeof address === "object" && address ? address.port : options.port;
  const shownHost = options.host === "0.0.0.0" || options.host === "::" ? "127.0.0.1" : options.host;

  return {
    url: `http://${shownHost.includes(":") ? `[${shownHost}]` : shownHost}:${port}`,
    app,
    async close() {
      clearInterval(sweeper);
      const closed = app.close();
      await untilIdle(activeRequests, general.graceful_shutdown_seconds * 1000);
      // Every answer is out (or the grace period is over): what is left are idle keep-alive connections.
      app.server.closeAllConnections();
      await closed;
      await closeRouter();
      await new Promise<void>((resolve) => logger.flush(() => resolve()));
    },
  };
}
