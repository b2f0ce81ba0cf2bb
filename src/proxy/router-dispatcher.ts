/**
 * The Dispatcher the routes use, on top of the router: resolves the client's model to a group, runs the
 * call through the router, and hands each attempt a DeploymentTarget. For a wildcard group the router calls
 * deployments made concrete for the model asked for (their `*` filled in, their cooldowns their own).
 */
import type { DeploymentTarget, Dispatcher, DeploymentCall, DispatchOutcome } from "./dispatch.js";
import type { ModelResolver } from "./model-resolver.js";
import type { Deployment, HealthMonitor, Router } from "./router/index.js";

export function deploymentTarget(deployment: Deployment, timeoutMs: number): DeploymentTarget {
  return {
    id: deployment.id,
    group: deployment.group,
    model: deployment.model,
    api_base: deployment.apiBase,
    api_key: deployment.apiKey,
    timeout: timeoutMs / 1000,
    extras: { ...deployment.extras },
  };
}

export class RouterDispatcher implements Dispatcher {
  constructor(
    private readonly router: Router,
    private readonly health: HealthMonitor,
    private readonly resolver: ModelResolver,
  ) {}

  assertCanEdit(requestedModel: string, withMask: boolean): void {
    this.health.checkEdit(this.resolver.resolve(requestedModel).group, withMask);
  }

  async dispatch<T>(requestedModel: string, call: DeploymentCall<T>, signal: AbortSignal): Promise<DispatchOutcome<T>> {
    const { group, wildcardMatch } = this.resolver.resolve(requestedModel);
    const outcome = await this.router.execute(
      group,
      (deployment, attempt) => call(deploymentTarget(deployment, attempt.timeoutMs), attempt.signal),
      { signal, ...(wildcardMatch !== undefined && { wildcardMatch }) },
    );
    return {
      result: outcome.result,
      group: outcome.group,
      deploymentId: outcome.deployment.id,
      attempts: outcome.attempts,
      fallbackUsed: outcome.fallbacks > 0,
      upstreamMs: outcome.upstreamMs,
    };
  }
}
