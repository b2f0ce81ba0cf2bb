import type { FastifyInstance } from "fastify";
import { BadRequestError } from "../../errors.js";
import type { LimiterState } from "../limits/index.js";

export interface DeploymentHealth {
  model_name: string;
  model: string;
  api_base?: string;
  deployment_id: string;
  healthy: boolean;
  /** Why it is unhealthy (never a secret). */
  error?: string;
  /** Requests to it in flight now. */
  in_flight: number;
  /** Mean of its recent latencies in ms, when it has answered lately. */
  latency_ms?: number;
  /** When it returns to the rotation (ISO 8601), while it is cooling down. */
  cooldown_until?: string;
  /** What its model server reports of the model: `embedding`, `LLM`…, and its abilities (`chat`, `vision`…). */
  model_type?: string;
  model_ability?: readonly string[];
  /** Whether its uid is launched on its server (`launched`, `not_launched`, `launching`); not for wildcards. */
  launch_state?: "launched" | "not_launched" | "launching";
  /** When the check that found its health ran (ISO 8601). */
  last_checked_at?: string;
}

export interface HealthReport {
  healthy_endpoints: DeploymentHealth[];
  unhealthy_endpoints: DeploymentHealth[];
  healthy_count: number;
  unhealthy_count: number;
  /** When the pass these findings come from began (ISO 8601); null when none ran. */
  checked_at: string | null;
}

/**
 * `starting` until every deployment has been checked once; then `healthy` (none unhealthy), `degraded` (some)
 * or `unhealthy` (all).
 */
export type ReadinessStatus = "starting" | "healthy" | "degraded" | "unhealthy";

export interface Readiness {
  status: ReadinessStatus;
  /** Deployments checked at least once. */
  checked: number;
  /** Deployments the first pass has not finished checking (served meanwhile). */
  pending: number;
  healthy_deployments: number;
  unhealthy_deployments: number;
}

export interface HealthCheck {
  /** The `/health` report; `fresh` asks for a new pass instead of one younger than the interval. */
  report(options: { fresh: boolean }): Promise<HealthReport>;
  /** What the checks have found so far, from memory: `/health/readiness` never waits on an upstream. */
  readiness(): Readiness;
}

/** `?fresh=true` (or `1`, or a bare `?fresh`) forces a new pass. */
function freshOf(query: unknown): boolean {
  const value: unknown = (query as Record<string, unknown> | undefined)?.fresh;
  if (value === undefined || value === "false" || value === "0") return false;
  if (value === "true" || value === "1" || value === "") return true;
  throw new BadRequestError("GET /health takes fresh=true (run a new health pass) or fresh=false (the default).", { param: "fresh" });
}

/** Where shared state lives now, for `/health/readiness`. */
export interface StateReport {
  /** The router's state: in process, or Redis. */
  router(): string;
  /** Rate limits: shared through Redis, or per instance while it is away. */
  limits(): LimiterState;
  /** Budget spend, alike. */
  budgets(): LimiterState;
}

export function healthRoutes(app: FastifyInstance, check: HealthCheck, state: StateReport): void {
  // Liveness and readiness answer without a key: load balancers and orchestrators call them.
  for (const url of ["/health/liveliness", "/health/liveness"]) {
    app.get(url, { config: { public: true } }, async () => "I'm alive!");
  }
  // 200 whenever the proxy answers, whatever its upstreams do: it serves (unchecked deployments are in the
  // rotation, and without any it answers a clear 503), and taking instances out of a load balancer would bring
  // no upstream back. `status` says how the deployments are doing; `rate_limits` and `budgets` whether they are
  // shared (Redis) or, with Redis away, held by each instance on its own.
  app.get("/health/readiness", { config: { public: true } }, async () => ({
    ...check.readiness(),
    db: state.router(),
    rate_limits: state.limits(),
    budgets: state.budgets(),
  }));
  app.get("/health", async (request) => check.report({ fresh: freshOf(request.query) }));
}
