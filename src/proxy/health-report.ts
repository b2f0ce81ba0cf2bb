/**
 * `/health`: runs a health pass now (each server's model list, plus a one-input embedding for embedding
 * deployments — never an image generation, which would cost GPU minutes) and reports every deployment.
 */
import { embedding } from "../index.js";
import { deploymentStatuses, type HealthMonitor, type HealthProbe, isWildcard, type Router } from "./router/index.js";
import type { DeploymentHealth, HealthReport } from "./routes/health.js";

/** The real call a health pass makes on a deployment, when there is a cheap one. */
export const cheapProbe: HealthProbe = async (deployment, signal) => {
  // A wildcard names no model to call: its models are checked by the requests for them.
  if (deployment.modelInfo.mode !== "embedding" || isWildcard(deployment)) return;
  await embedding({
    model: deployment.model,
    input: "health check",
    api_base: deployment.apiBase,
    api_key: deployment.apiKey,
    num_retries: 0,
    signal,
  });
};

export async function healthReport(router: Router, health: HealthMonitor): Promise<HealthReport> {
  await health.runPass();
  const statuses = await deploymentStatuses(router, health);
  const healthy: DeploymentHealth[] = [];
  const unhealthy: DeploymentHealth[] = [];
  for (const status of statuses) {
    const cooling = status.cooldown !== undefined;
    const entry: DeploymentHealth = {
      model_name: status.group,
      model: status.model,
      ...(status.apiBase !== undefined && { api_base: status.apiBase }),
      deployment_id: status.id,
      healthy: status.health !== "unhealthy" && !cooling,
      ...(status.reason !== undefined && { error: status.reason }),
      ...(cooling && status.reason === undefined && { error: `cooling down: ${status.cooldown?.reason ?? "recent failures"}` }),
    };
    (entry.healthy ? healthy : unhealthy).push(entry);
  }
  return { healthy_endpoints: healthy, unhealthy_endpoints: unhealthy, healthy_count: healthy.length, unhealthy_count: unhealthy.length };
}
