/**
 * `GET /metrics`: the Prometheus text of the proxy's metrics (see telemetry/metrics.ts). It needs the master
 * key, as the admin routes do — a virtual key is refused with a 403 — unless `general_settings.metrics_public`
 * serves it to anyone; a proxy without a master key is open, this route included.
 */
import type { FastifyInstance, FastifyRequest } from "fastify";
import { PermissionDeniedError } from "../../errors.js";
import type { MetricsScrape } from "../telemetry/metrics-scrape.js";

/** Runs before the handler: a virtual key is refused, as on the admin routes. */
async function masterOnly(request: FastifyRequest): Promise<void> {
  if (request.principal?.kind !== "virtual") return;
  throw new PermissionDeniedError(
    "GET /metrics needs the proxy's master key (general_settings.master_key), not a virtual key; or set general_settings.metrics_public: true to serve it without a key.",
    { code: "admin_only" },
  );
}

export function metricsRoute(app: FastifyInstance, scrape: MetricsScrape, options: { public: boolean }): void {
  app.get("/metrics", { config: { public: options.public }, ...(!options.public && { onRequest: masterOnly }) }, async (_request, reply) => {
    const text = await scrape.scrape();
    return reply.type(scrape.contentType).send(text);
  });
}
