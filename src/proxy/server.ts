/**
 * The listening proxy: settings resolved from the loaded config, the app built, the port opened, and a
 * graceful close — no new requests, in-flight ones finish within the grace period, then everything is released.
 */
import pino, { type Logger } from "pino";
import { buildApp } from "./app.js";
import { stateDescription } from "./banner.js";
import type { ProxyConfig } from "./config/index.js";
import { removeOrphanedSpoolDirs } from "./files/spool-dir.js";
import { resolveSettings } from "./settings.js";
import type { FastifyInstance } from "fastify";

export interface StartOptions {
  host: string;
  port: number;
  logLevel?: string;
  /** A logger of the caller's; by default JSON lines on stdout. */
  logger?: Logger;
  /** How many worker processes serve the port, for what `/health/readiness` says of the router's state. */
  workers?: number;
  /** Whether this process reports the health checks' findings (see AppDeps); default true. */
  reportsHealth?: boolean;
}

export interface RunningProxy {
  url: string;
  app: FastifyInstance;
  /** Requests whose answer is not done yet. */
  activeRequests(): number;
  /** Stops accepting, lets in-flight requests finish within the grace period, then releases everything. */
  close(): Promise<void>;
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
  const settings = resolveSettings(config, process.env);
  const orphans = await removeOrphanedSpoolDirs();
  if (orphans > 0) logger.warn({ removed: orphans }, `removed ${orphans} upload spool folder(s) left by processes that are gone`);
  const built = await buildApp(settings, {
    logger,
    stateDescription: stateDescription(config, options.workers),
    ...(options.reportsHealth !== undefined && { reportsHealth: options.reportsHealth }),
  });
  // Redis first: until it is connected, requests would route and be limited without the shared state, and miss the cache.
  await built.ready();
  await built.router.health.start();

  const { app } = built;
  await app.listen({ host: options.host, port: options.port });
  const address = app.server.address();
  const port = typeof address === "object" && address ? address.port : options.port;
  const shownHost = options.host === "0.0.0.0" || options.host === "::" ? "127.0.0.1" : options.host;

  return {
    url: `http://${shownHost.includes(":") ? `[${shownHost}]` : shownHost}:${port}`,
    app,
    activeRequests: built.activeRequests,
    async close() {
      const inFlight = built.activeRequests();
      const graceMs = settings.server.gracefulShutdownMs;
      logger.info({ in_flight: inFlight, grace_ms: graceMs }, `draining ${inFlight} in-flight requests`);
      const closed = built.close();
      await untilIdle(built.activeRequests, graceMs);
      // Every answer is out (or the grace period is over): what is left are idle keep-alive connections.
      const cutOff = built.activeRequests();
      app.server.closeAllConnections();
      await closed;
      logger.info({ cut_off: cutOff }, cutOff > 0 ? `stopped; ${cutOff} requests were cut off at the end of the grace period` : "stopped");
      await new Promise<void>((resolve) => logger.flush(() => resolve()));
    },
  };
}
