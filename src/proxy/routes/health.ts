import type { FastifyInstance } from "fastify";

export interface DeploymentHealth {
  model_name: string;
  model: string;
  api_base?: string;
  deployment_id: string;
  healthy: boolean;
  /** Why it is unhealthy (never a secret). */
  error?: string;
}

export interface HealthReport {
  healthy_endpoints: DeploymentHealth[];
  unhealthy_endpoints: DeploymentHealth[];
  healthy_count: number;
  unhealthy_count: number;
}

export type HealthCheck = () => Promise<HealthReport>;

export function healthRoutes(app: FastifyInstance, check: HealthCheck, describeStore: () => string): void {
  // Liveness and readiness answer without a key: load balancers and orchestrators call them.
  for (const url of ["/health/liveliness", "/health/liveness"]) {
    app.get(url, { config: { public: true } }, async () => "I'm alive!");
  }
  app.get("/health/readiness", { config: { public: true } }, async () => ({
    status: "healthy",
    db: describeStore(),
  }));
  app.get("/health", async () => check());
}
