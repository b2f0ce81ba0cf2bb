/**
 * The composition root: Settings in, a Fastify app out — not yet listening, so tests drive it with
 * `inject`, and server.ts listens. Wires the router and its health checks, the image store, the embedding
 * cache, the pipeline's stages and the routes. Knows nothing of any provider: routes reach upstreams only
 * through the pipeline.
 */
import multipart from "@fastify/multipart";
import Fastify, { type FastifyInstance, type FastifyRequest } from "fastify";
import type { Logger } from "pino";
import * as providers from "../providers/index.js";
import { type AllowedCacheControls, createEmbeddingCache, isCacheControlName } from "./cache/index.js";
import { ImageStore } from "./files/image-store.js";
import { formDeclaredLimit } from "./files/uploads.js";
import { cheapProbe, healthReport, reachedModels } from "./health-report.js";
import { clientErrorHandler } from "./http/client-errors.js";
import { frameworkErrorHandler, installErrorHandlers } from "./http/errors.js";
import { checkProtocol, continueIfExpected, httpServer } from "./http/protocol.js";
import { requestId } from "./http/request-id.js";
import { createLimiter, type Limiter } from "./limits/index.js";
import { ModelResolver } from "./model-resolver.js";
import { authenticator } from "./pipeline/authenticate.js";
import { KeyCache } from "./keys/cache.js";
import { NO_KEY_CHANGES } from "./keys/events.js";
import { createKeyChanges, type KeyChange, type KeyChanges, RedisKeyChanges } from "./keys/invalidation.js";
import { adminRoutes } from "./routes/admin/index.js";
import {
  type AccountingDeps,
  type Admission,
  attemptLog,
  Dispatcher,
  doneIfBrokenOff,
  type Pipeline,
  registerOperationRoute,
  requestDone,
} from "./pipeline/index.js";
import { type Clock, systemClock } from "./router/clock.js";
import { createRouter, modelServerClient, type RouterBundle, type RouterLogger } from "./router/index.js";
import { speechRoute, transcriptionRoute, translationRoute } from "./routes/audio.js";
import { chatRoute, textCompletionRoute } from "./routes/chat.js";
import { consoleRoutes, defaultConsoleDir } from "./routes/console.js";
import { embeddingsRoute } from "./routes/embeddings.js";
import { healthRoutes } from "./routes/health.js";
import { hostedImageRoutes } from "./routes/hosted-images.js";
import { imageEditRoute, imageGenerationRoute } from "./routes/images.js";
import { modelRoutes } from "./routes/models.js";
import { metricsRoute } from "./routes/metrics.js";
import { rerankRoute } from "./routes/rerank.js";
import type { Settings } from "./settings.js";
import { createBudgets, type Budgets } from "./budgets/index.js";
import { estimatedCost, type Pricing, type UsageEstimate } from "./spend/cost.js";
import type { SpendRecorder } from "./spend/recorder.js";
import type { Deployment } from "./router/index.js";
import type { Store } from "./store/index.js";
import { healthSamples, ProxyMetrics } from "./telemetry/metrics.js";
import { metricsScrape } from "./telemetry/metrics-scrape.js";
import { RequestMetrics } from "./telemetry/request-metrics.js";

export interface AppDeps {
  logger: Logger;
  /** The router and its health monitor; by default built from the settings (with Redis when they name one). */
  router?: RouterBundle;
  /** Where hosted images are kept; by default a folder in the system's temp dir. */
  imageDir?: string;
  /** Checks every operation request passes between parse and dispatch (see pipeline/index.ts). */
  admit?: readonly Admission[];
  /**
   * Whether this process reports what the health checks find (default true). Of several workers, one does:
   * the others log their findings at debug level, so that each is reported once.
   */
  reportsHealth?: boolean;
  /** Where router state lives, as `/health/readiness` says it. */
  stateDescription?: string;
  /** The embedding cache's clock (TTLs, Redis's retry pause) and which per-request controls a caller may use. */
  cache?: { clock?: Clock; allowedControls?: AllowedCacheControls };
  /** Where rate limits are counted; by default Redis when the settings name one, else this process. */
  limiter?: Limiter;
  /** Keys, teams and spend logs; undefined when the store is closed (no master key). */
  store?: Store;
  /** Where spend rows go; undefined: nowhere (the store is closed, or a test needs none). */
  recorder?: SpendRecorder;
  /** Where budget spend is counted; by default Redis when the settings name one, else this process. */
  budgets?: Budgets;
  /**
   * Time for keys and accounts: key expiries and budget periods (the key cache, the admin routes), budgets,
   * rate limits, the embedding cache and each request's account. The store, the spend recorder and a
   * limiter or budgets passed in should share it. Tests pass a fake one; by default the system's. The
   * router keeps its own (its timeouts and retry waits are real time).
   */
  clock?: Clock;
  /** The built web console served at /ui; by default dist/ui at the package's root. */
  consoleDir?: string;
}

export interface App {
  app: FastifyInstance;
  router: RouterBundle;
  /**
   * Waits for Redis (router state, the limiter, the cache) to connect, when the settings name one. Never
   * rejects: without Redis the proxy serves on its own, and says so in the log.
   */
  ready(): Promise<void>;
  /** Counts rate limits: deployments' `rpm`/`tpm`, and keys' and teams' limits. */
  limiter: Limiter;
  /** Requests whose response is not yet done (finished, or its connection gone). */
  activeRequests(): number;
  /** Closes the app and releases the router, the limiter, the cache and the image sweeper; in-flight requests should be done first. */
  close(): Promise<void>;
}

/**
 * Key changes also make budgets forget what they counted for those keys and teams — here and, through the
 * notices from other instances, everywhere — so that a spend reset or a new budget takes effect at once.
 */
function forgettingBudgets(changes: KeyChanges, budgets: Budgets): KeyChanges {
  const forget = (change: KeyChange): void => {
    if ("tokens" in change) for (const token of change.tokens) budgets.forget("key", token);
    else budgets.forget("team", change.team);
  };
  if (changes instanceof RedisKeyChanges) changes.on("change", forget);
  return {
    keysChanged(tokens) {
      forget({ tokens: [...tokens] });
      changes.keysChanged(tokens);
    },
    teamChanged(team) {
      forget({ team });
      changes.teamChanged(team);
    },
    ready: () => changes.ready(),
    notified: () => changes.notified(),
    close: () => changes.close(),
  };
}

/** A virtual key's `allowed_cache_controls`; none listed (or another caller): every control is allowed. */
function keyCacheControls(request: FastifyRequest): ReturnType<AllowedCacheControls> {
  const principal = request.principal;
  if (principal?.kind !== "virtual") return undefined;
  const allowed = principal.key.record.allowed_cache_controls;
  return allowed.length === 0 ? undefined : new Set(allowed.filter(isCacheControlName));
}

/**
 * The most a request to a model may cost, reserved against budgets before it is routed: on the dearest
 * deployment of its group, since any of them may answer it.
 */
function costEstimator(resolver: ModelResolver, deployments: readonly Deployment[]): (model: string, estimate: UsageEstimate) => number {
  const pricings = new Map<string, Pricing[]>();
  for (const d of deployments) pricings.set(d.group, [...(pricings.get(d.group) ?? []), d.pricing]);
  return (model, estimate) => {
    let most = 0;
    for (const pricing of pricings.get(resolver.resolve(model).group) ?? []) most = Math.max(most, estimatedCost(pricing, estimate));
    return most;
  };
}

/** One warning a minute per key or team past its `soft_budget`: every request of it would say the same. */
function softBudgetLog(logger: Logger, clock: Clock): AccountingDeps["onSoftBudget"] {
  const lastWarned = new Map<string, number>();
  return (scope, spend, requestId) => {
    const now = clock.now();
    const id = `${scope.kind}:${scope.id}`;
    if (now - (lastWarned.get(id) ?? 0) < 60_000) return;
    if (lastWarned.size > 10_000) lastWarned.clear();
    lastWarned.set(id, now);
    logger.warn(
      { request_id: requestId, [scope.kind === "key" ? "key_alias" : "team"]: scope.name, spend, soft_budget: scope.softBudget },
      `${scope.kind} '${scope.name}' has spent ${spend}, past its soft_budget ${scope.softBudget ?? 0}`,
    );
  };
}

/** The health checks' lines at debug level: what the worker that reports them says at info and warn. */
function quietly(logger: Logger): RouterLogger {
  return { info: (fields, message) => logger.debug(fields, message), warn: (fields, message) => logger.debug(fields, message) };
}

export async function buildApp(settings: Settings, deps: AppDeps): Promise<App> {
  const { logger } = deps;
  const clock = deps.clock ?? systemClock;
  const limiter = deps.limiter ?? createLimiter(settings.redis, { logger, clock });
  // Read at scrape time: the router's health, and the requests in flight (see `active` below) but the scrape.
  const metrics: ProxyMetrics = new ProxyMetrics(
    { health: () => healthSamples(router.router, router.health), inFlight: () => active - scrape.inProgress() },
    { keyLabels: settings.metrics.keyLabels },
  );
  const scrape = metricsScrape(metrics.registries());
  const requestMetrics = new RequestMetrics(metrics);
  const done = requestDone(logger, requestMetrics.done);
  // Without a store there are no virtual keys, so nothing has a budget: nothing need connect to Redis for them.
  const budgets = deps.budgets ?? (deps.store === undefined ? createBudgets(undefined, { clock }) : createBudgets(settings.redis, { logger, clock }));
  const router: RouterBundle =
    deps.router ??
    createRouter(
      { settings: settings.router, deployments: settings.deployments, redis: settings.redis },
      {
        logger,
        ...(deps.reportsHealth === false && { healthLogger: quietly(logger) }),
        servers: modelServerClient(providers),
        probe: cheapProbe,
        limiter,
        onCooldown: requestMetrics.cooledDown,
      },
    );
  const images = new ImageStore({ ttlSeconds: settings.imageUrlTtlSeconds, ...(deps.imageDir && { dir: deps.imageDir }) });
  const resolver = new ModelResolver(settings.deployments.map((d) => ({ model_name: d.group, litellm_params: { model: d.model } })), settings.aliases);
  // Made only when traces are on: off, nothing of them is on the request path, nor the OpenTelemetry SDK
  // and exporter in memory (~5 MB of heap).
  const tracing = settings.tracing === undefined ? undefined : (await import("./telemetry/tracing.js")).createTracing(settings.tracing, logger);
  const observers = [attemptLog(logger), tracing?.attempts, requestMetrics.attempts].filter((observer) => observer !== undefined);
  const dispatcher = new Dispatcher(router.router, router.health, resolver, observers);
  const cache =
    settings.cache === undefined
      ? undefined
      : createEmbeddingCache(settings.cache, {
          logger,
          resolver,
          deployments: settings.deployments,
          allowedControls: keyCacheControls,
          clock,
          ...deps.cache,
        });
  const keys = deps.store === undefined ? undefined : new KeyCache(deps.store, { logger, clock });
  const keyChanges = keys === undefined ? undefined : forgettingBudgets(createKeyChanges(keys, settings.redis, { logger }), budgets);
  const pipeline: Pipeline = {
    parse: { dropParams: settings.dropParams, allowClientCredentials: settings.allowClientCredentials },
    admit: deps.admit ?? [],
    dispatcher,
    groupOf: (model) => {
      try {
        return resolver.resolve(model).group;
      } catch {
        return undefined; // an unknown model: the access check judges the name alone, then dispatch answers its 404
      }
    },
    accounting: {
      limiter,
      budgets,
      recorder: deps.recorder,
      estimateCost: costEstimator(resolver, settings.deployments),
      onSoftBudget: softBudgetLog(logger, clock),
      now: () => clock.now(),
      onRecordError: (error, id) => logger.error({ request_id: id, err: error }, "could not journal a spend row"),
    },
  };

  const { server } = settings;
  const limits = { bodyLimitBytes: server.bodyLimitBytes };
  const app = Fastify({
    logger: false,
    bodyLimit: server.bodyLimitBytes,
    serverFactory: (handler) => httpServer(handler, server),
    clientErrorHandler: clientErrorHandler(server, logger),
    frameworkErrors: frameworkErrorHandler(done, limits),
    // In-flight requests finish on close; idle keep-alive sockets are closed at once.
    forceCloseConnections: "idle",
    // Fastify's own 503 while closing is not in the error shape: checkProtocol answers those requests.
    return503OnClosing: false,
    routerOptions: { ignoreTrailingSlash: true },
    genReqId: requestId,
  });
  app.decorateRequest("trace", null);
  app.decorateRequest("principal", null);
  tracing?.install(app);
  await app.register(multipart, { throwFileSizeLimit: true });

  // Counted so that a graceful stop knows when every answer is out: a keep-alive connection can outlive its
  // request, and waiting on connections instead would wait for clients to hang up.
  let active = 0;
  let closing = false;
  const authenticate = authenticator(settings.masterKey, keys);
  app.addHook("onRequest", async (request, reply) => {
    active++;
    reply.raw.once("close", () => {
      active--;
      doneIfBrokenOff(request, reply, done);
    });
    reply.header("x-request-id", request.id);
    checkProtocol(request, closing);
    await authenticate(request);
  });
  const declaredLimits = { bodyLimitBytes: server.bodyLimitBytes, ...formDeclaredLimit(settings.uploads) };
  app.addHook("preParsing", async (request, reply) => continueIfExpected(request, reply, declaredLimits));
  app.addHook("onResponse", async (request, reply) => done(request, reply.statusCode, reply.elapsedTime));
  installErrorHandlers(app, logger, limits, done);

  const urls = { publicBaseUrl: settings.publicBaseUrl, trustProxy: settings.trustProxy };
  const imageDeps = { images, urls, uploads: settings.uploads, dispatcher };
  registerOperationRoute(app, pipeline, embeddingsRoute(cache?.stage));
  registerOperationRoute(app, pipeline, imageGenerationRoute(imageDeps));
  registerOperationRoute(app, pipeline, imageEditRoute(imageDeps));
  registerOperationRoute(app, pipeline, rerankRoute);
  const audioDeps = { uploads: settings.uploads, dispatcher };
  registerOperationRoute(app, pipeline, transcriptionRoute(audioDeps));
  registerOperationRoute(app, pipeline, translationRoute(audioDeps));
  registerOperationRoute(app, pipeline, speechRoute(audioDeps));
  const chatDeps = { dispatcher, keepAliveMs: settings.streamKeepAliveMs };
  registerOperationRoute(app, pipeline, chatRoute(chatDeps));
  registerOperationRoute(app, pipeline, textCompletionRoute(chatDeps));
  hostedImageRoutes(app, images);
  metricsRoute(app, scrape, { public: settings.metrics.public });
  modelRoutes(app, resolver, settings.modelInfo, reachedModels(router.router, router.health));
  adminRoutes(app, { store: deps.store, notifier: keyChanges ?? NO_KEY_CHANGES, clock, masterKey: settings.masterKey });
  await consoleRoutes(app, { dir: deps.consoleDir ?? defaultConsoleDir() });
  const stateDescription = deps.stateDescription ?? "in-process (one instance)";
  healthRoutes(app, healthReport(router.router, router.health), {
    router: () => stateDescription,
    limits: () => limiter.state(),
    budgets: () => budgets.state(),
  });

  const sweeper = setInterval(() => void images.sweep(), 60_000);
  sweeper.unref();
  return {
    app,
    router,
    async ready() {
      await Promise.all([router.ready(), limiter.ready(), budgets.ready(), cache?.ready(), keyChanges?.ready()]);
    },
    limiter,
    activeRequests: () => active,
    async close() {
      closing = true;
      clearInterval(sweeper);
      scrape.close();
      await app.close();
      await Promise.all([router.close(), limiter.close(), budgets.close(), cache?.close(), keyChanges?.close(), tracing?.close()]);
    },
  };
}
