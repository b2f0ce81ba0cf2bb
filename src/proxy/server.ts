/**
 * The listening proxy: settings resolved from the loaded config, the app built, the port opened, and a
 * graceful close — no new requests, in-flight ones finish within the grace period, then everything is released.
 */
import pino, { type Logger } from "pino";
import { buildApp } from "./app.js";
import { stateDescription } from "./banner.js";
import type { ProxyConfig } from "./config/index.js";
import { removeOrphanedSpoolDirs } from "./files/spool-dir.js";
import { systemClock } from "./router/clock.js";
import { createBudgets, type Budgets } from "./budgets/index.js";
import { resolveSettings, type Settings, type StoreSettings } from "./settings.js";
import { SpendRecorder } from "./spend/recorder.js";
import { openStore, type Store } from "./store/index.js";
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
  /** This process's place among the workers, 0 to workers-1: it names its spend journal. Default 0. */
  workerIndex?: number;
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

/**
 * The store, the recorder that takes this process's spend rows to it, and the budgets, told of each batch the
 * database took so that they count its spend once.
 */
async function openAccounts(
  settings: Settings,
  store: StoreSettings,
  logger: Logger,
  options: StartOptions,
): Promise<{ store: Store; recorder: SpendRecorder; budgets: Budgets }> {
  const onError = (error: Error): void => logger.error({ err: error }, "spend log");
  const opened = await openStore(store.database, { onError });
  if (opened.migrated.length > 0) logger.info({ versions: opened.migrated }, `the store's schema is up to date (applied ${opened.migrated.join(", ")})`);
  const budgets = createBudgets(settings.redis, { logger });
  const workers = options.workers ?? 1;
  const index = options.workerIndex ?? 0;
  const recorder = await SpendRecorder.open({
    store: opened,
    dir: store.dataDir,
    instance: String(index),
    // Only the first worker replays the journals of workers that no longer exist (indices past --num_workers).
    ...(index === 0 && { live: new Set(Array.from({ length: workers }, (_unused, i) => String(i))) }),
    flushIntervalMs: store.spendBatchIntervalMs,
    retention: index === 0 ? store.spendLogRetention : undefined,
    clock: systemClock,
    onCommitted: (charges) => budgets.committed(charges),
    onError,
  });
  return { store: opened, recorder, budgets };
}

export async function startProxy(config: ProxyConfig, options: StartOptions): Promise<RunningProxy> {
  // Asynchronous writes keep a slow stdout reader off the request path; close() flushes what is left.
  const logger =
    options.logger ?? pino({ level: options.logLevel ?? "info", base: undefined }, pino.destination({ dest: 1, sync: false }));
  const settings = resolveSettings(config, process.env);
  const orphans = await removeOrphanedSpoolDirs();
  if (orphans > 0) logger.warn({ removed: orphans }, `removed ${orphans} upload spool folder(s) left by processes that are gone`);
  const accounts = settings.store === undefined ? undefined : await openAccounts(settings, settings.store, logger, options);
  const built = await buildApp(settings, {
    logger,
    stateDescription: stateDescription(config, options.workers),
    ...(options.reportsHealth !== undefined && { reportsHealth: options.reportsHealth }),
    ...accounts,
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
      // Every answer is out: the journal's last rows go to the database before it closes.
      await accounts?.recorder.close();
      await accounts?.store.close();
      logger.info({ cut_off: cutOff }, cutOff > 0 ? `stopped; ${cutOff} requests were cut off at the end of the grace period` : "stopped");
      await new Promise<void>((resolve) => logger.flush(() => resolve()));
    },
  };
}
