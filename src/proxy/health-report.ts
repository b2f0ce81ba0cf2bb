/**
 * `/health` and `/health/readiness` from the health monitor's findings: `/health` lists every deployment with
 * what the last pass found (each server's model list, plus a one-input embedding for embedding deployments —
 * never an image generation, which would cost GPU minutes) and its cooldown; readiness counts from memory.
 */
import { embedding } from "../index.js";
import { deploymentStatuses, type HealthMonitor, type HealthProbe, isWildcard, type Router } from "./router/index.js";
import type { DeploymentHealth, HealthCheck, HealthReport, Readiness } from "./routes/health.js";
import type { ReachedModel } from "./routes/models.js";

/** The real call a health pass makes on a deployment, when there is a cheap one. */
export const cheapProbe: HealthProbe = async (deployment, signal) => {
  // A wildcard names no model to call: its models are checked by the requests for them.
  if (deployment.modelInfo.mode !== "embedding" || isWildcard(deployment)) return;
  await embedding({
    model: deployment.model,
    input: "health check",
    api_base: deployment.apiBase,
    api_key: deployment.apiKey,
    // Never retried (a retry would wait out a loading model's Retry-After); the signal bounds the call.
    num_retries: 0,
    signal,
  });
};

/**
 * The report of the last pass while it is younger than `health_check_interval` (unless `fresh`), else of a new
 * one, waited for at most `health_check_timeout`: a deployment whose check has not finished by then is
 * reported unhealthy, saying so.
 */
async function reportOf(router: Router, health: HealthMonitor, options: { fresh: boolean }): Promise<HealthReport> {
  const view = await health.report(options);
  const statuses = await deploymentStatuses(router, health);
  const healthy: DeploymentHealth[] = [];
  const unhealthy: DeploymentHealth[] = [];
  for (const status of statuses) {
    const unfinished = view.unfinished.get(status.id);
    const cooling = status.cooldown !== undefined;
    const error = unfinished ?? status.reason ?? (cooling ? `cooling down: ${status.cooldown?.reason ?? "recent failures"}` : undefined);
    const entry: DeploymentHealth = {
      model_name: status.group,
      model: status.model,
      ...(status.apiBase !== undefined && { api_base: status.apiBase }),
      deployment_id: status.id,
      healthy: unfinished === undefined && status.health !== "unhealthy" && !cooling,
      ...(error !== undefined && { error }),
      in_flight: status.inFlight,
      ...(status.latencyMs !== undefined && { latency_ms: Math.round(status.latencyMs * 10) / 10 }),
      ...(status.cooldown !== undefined && { cooldown_until: new Date(status.cooldown.until).toISOString() }),
      ...(status.modelType !== undefined && { model_type: status.modelType }),
      ...(status.abilities !== undefined && { model_ability: status.abilities }),
      ...(status.launch !== undefined && { launch_state: status.launch }),
      ...(status.checkedAt !== undefined && { last_checked_at: new Date(status.checkedAt).toISOString() }),
    };
    (entry.healthy ? healthy : unhealthy).push(entry);
  }
  return {
    healthy_endpoints: healthy,
    unhealthy_endpoints: unhealthy,
    healthy_count: healthy.length,
    unhealthy_count: unhealthy.length,
    checked_at: view.passStartedAt === undefined ? null : new Date(view.passStartedAt).toISOString(),
  };
}

/** `/health/readiness`: how far the checks are and what they found, from memory (it never waits). */
function readinessOf(health: HealthMonitor): Readiness {
  const { checked, pending, healthy, unhealthy } = health.summary();
  const status =
    pending > 0 ? "starting" : unhealthy === 0 ? "healthy" : unhealthy === checked ? "unhealthy" : "degraded";
  return { status, checked, pending, healthy_deployments: healthy, unhealthy_deployments: unhealthy };
}

/** What `/health` and `/health/readiness` report of the router and its health monitor. */
export function healthReport(router: Router, health: HealthMonitor): HealthCheck {
  return {
    report: (options) => reportOf(router, health, options),
    readiness: () => readinessOf(health),
  };
}

/**
 * The models wildcard deployments reach, from the health checks' model lists: the last pass's while it is
 * younger than `health_check_interval`, else a new one's, waited for at most `health_check_timeout`.
 * Undefined when no deployment is a wildcard.
 */
export function reachedModels(router: Router, health: HealthMonitor): (() => Promise<ReachedModel[]>) | undefined {
  if (!router.deployments.some(isWildcard)) return undefined;
  return async () => {
    await health.report();
    return health.wildcardModels().map(({ id, model }) => ({
      id,
      ...(model.model_type !== undefined && { model_type: model.model_type }),
      ...(model.model_ability !== undefined && { model_ability: model.model_ability }),
    }));
  };
}
