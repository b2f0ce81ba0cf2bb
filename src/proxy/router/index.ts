/**
 * The router's public surface for the server: build it from the config, run calls through it, report
 * deployments' state for `/health`.
 */
import type { Limiter } from "../limits/index.js";
import type { Clock } from "./clock.js";
import type { RouterSettings } from "./config.js";
import type { RedisConnection } from "../kv/redis.js";
import { createRouterState } from "./create-state.js";
import type { Deployment } from "./deployment.js";
import { type HealthProbe, HealthMonitor, type HealthStatus, type LaunchState } from "./health.js";
import type { RouterLogger } from "./logger.js";
import type { ModelServerClient } from "./model-servers.js";
import { Router, type RouterOptions } from "./router.js";
import type { Cooldown, RouterState } from "./state.js";
import type { Random } from "./strategies/index.js";

export { type AudioUse, editRefusal, llmRefusal, requiredEditAbility } from "./abilities.js";
export type { LlmNeeds } from "./abilities.js";
export type { RouterConfigInput, RouterSettings } from "./config.js";
export { routerSettingsFrom } from "./config.js";
export type { Deployment } from "./deployment.js";
export { buildDeployments, isWildcard } from "./deployment.js";
export type { DeploymentHealth, HealthProbe, HealthSummary, HealthView, LaunchState } from "./health.js";
export { HealthMonitor } from "./health.js";
export type { RouterLogger } from "./logger.js";
export type { ModelServerClient, ProviderRegistry, ServedModel } from "./model-servers.js";
export { modelServerClient } from "./model-servers.js";
export type { CallContext, DeploymentCall, ExecuteOptions, ExecuteResult } from "./router.js";
export { Router } from "./router.js";
export type { Cooldown, DeploymentStats, RouterState } from "./state.js";

/** What the router is built from: resolved once from the config (see proxy/settings.ts). */
export interface RouterInput {
  settings: RouterSettings;
  deployments: readonly Deployment[];
  /** Where cooldowns and load are shared; undefined: in this process. */
  redis: RedisConnection | undefined;
}

export interface CreateRouterOptions {
  /** Where cooldowns and load live; by default Redis when the input names one, else this process. */
  state?: RouterState;
  /** Key prefix in Redis (default `xgate:router:`). */
  namespace?: string;
  /** The model servers health checks list and launch models on (Xinference). */
  servers?: ModelServerClient;
  /** A real call per deployment on each health pass. */
  probe?: HealthProbe;
  logger?: RouterLogger;
  /**
   * The health checks' logger; by default `logger`. Workers that check the same upstreams give all but one
   * of themselves a quiet one, so that each finding is reported once.
   */
  healthLogger?: RouterLogger;
  clock?: Clock;
  random?: Random;
  /** Where deployments' `rpm`/`tpm` are counted (the limiter keys and teams use too); by default in this process. */
  limiter?: Limiter;
  /** Told each time a deployment cools down after failures. */
  onCooldown?: RouterOptions["onCooldown"];
}

export interface RouterBundle {
  router: Router;
  health: HealthMonitor;
  /**
   * Waits for the shared state (Redis) to connect. Never rejects: without Redis the router routes on its
   * own, and says so in the log, until the connection comes up.
   */
  ready(): Promise<void>;
  /** Stops health checks and releases the router's state. */
  close(): Promise<void>;
}

/**
 * The router and its health monitor. Before serving, await `ready()` (Redis connected, when configured) and
 * call `health.start()`, which resolves at once: the first pass (model lists, probes, auto-launches) runs in
 * the background, and further passes follow when `background_health_checks` is on.
 *
 * @example
 * const { router, health, ready, close } = createRouter(settings, { logger, servers: modelServerClient(providers) });
 * await Promise.all([ready(), health.start()]);
 * const answer = await router.execute("embed", (d, { signal, timeoutMs }) => callUpstream(d, signal, timeoutMs), { signal });
 */
export function createRouter(input: RouterInput, options: CreateRouterOptions = {}): RouterBundle {
  const { settings, deployments } = input;
  const health = new HealthMonitor(deployments, {
    background: settings.backgroundHealthChecks,
    intervalMs: settings.healthCheckIntervalMs,
    checkTimeoutMs: settings.healthCheckTimeoutMs,
    ...(options.servers && { servers: options.servers }),
    ...(options.probe && { probe: options.probe }),
    ...(options.clock && { clock: options.clock }),
    ...((options.healthLogger ?? options.logger) && { logger: options.healthLogger ?? options.logger }),
  });
  const state =
    options.state ??
    createRouterState(input.redis, {
      ...(options.namespace && { namespace: options.namespace }),
      ...(options.clock && { clock: options.clock }),
    });
  const router = new Router({
    deployments,
    settings,
    state,
    rotation: health,
    ...(options.clock && { clock: options.clock }),
    ...(options.random && { random: options.random }),
    ...(options.logger && { logger: options.logger }),
    ...(options.limiter && { limiter: options.limiter }),
    ...(options.onCooldown && { onCooldown: options.onCooldown }),
  });
  return {
    router,
    health,
    async ready() {
      await state.ready().catch((error: unknown) => {
        options.logger?.warn(
          { err: { message: (error as Error).message } },
          "router state (Redis) not reachable; routing without shared cooldowns and load until it is",
        );
      });
    },
    async close() {
      health.stop();
      await router.close();
    },
  };
}

/** One deployment's state, for `/health` (no secrets). */
export interface DeploymentStatus {
  /** A wildcard variant's is `<configured id>/<model asked for>`. */
  id: string;
  group: string;
  model: string;
  apiBase: string | undefined;
  /** In the rotation: not cooling down, and not failing background health checks. */
  available: boolean;
  health: HealthStatus;
  /** Why the health checks found it unhealthy. */
  reason: string | undefined;
  cooldown: Cooldown | undefined;
  inFlight: number;
  /** Mean of its recent latencies; undefined without recent requests. */
  latencyMs: number | undefined;
  /** What its server reports of the model, and whether its uid is launched there, as the last check found. */
  modelType: string | undefined;
  abilities: readonly string[] | undefined;
  launch: LaunchState | undefined;
  /** Epoch ms of the check that found its health; undefined until one has. */
  checkedAt: number | undefined;
}

/**
 * Every configured deployment, then each wildcard variant (a model asked for through a wildcard) that is
 * cooling down: otherwise the wildcard deployment's own entry speaks for its models.
 */
export async function deploymentStatuses(router: Router, health: HealthMonitor): Promise<DeploymentStatus[]> {
  const stats = await router.stats();
  const shown = router.tracked().filter((d) => d.variantOf === undefined || stats.get(d.id)?.cooldown !== undefined);
  return shown.map((deployment) => {
    // Health checks know the configured deployment; its variants share its findings.
    const checkedId = deployment.variantOf ?? deployment.id;
    const state = health.get(checkedId);
    const cooldown = stats.get(deployment.id)?.cooldown;
    return {
      id: deployment.id,
      group: deployment.group,
      model: deployment.model,
      apiBase: deployment.apiBase,
      available: cooldown === undefined && health.inRotation(checkedId),
      health: state?.status ?? "unknown",
      reason: state?.reason,
      cooldown,
      inFlight: stats.get(deployment.id)?.inFlight ?? 0,
      latencyMs: stats.get(deployment.id)?.latencyMs,
      modelType: state?.modelType,
      abilities: state?.abilities,
      launch: state?.launch,
      checkedAt: state?.checkedAt,
    };
  });
}
