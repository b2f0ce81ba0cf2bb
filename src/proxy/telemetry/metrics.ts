/**
 * The proxy's Prometheus metrics: every metric `GET /metrics` serves, defined here once (names, help, labels,
 * buckets, how a process group adds them up), in a registry of the app's own, besides the process's
 * (prom-client's default metrics, one set per process whatever the number of apps in it).
 *
 * Label values come from the config and the store, never from the client: a model group (or `unknown` for a
 * model no deployment serves, `none` for a request that named no model), a route's pattern (or
 * `(unmatched)`), a configured deployment's id, a team's id, a key's alias. So the number of series is
 * bounded by the config and the keys an operator made, whatever clients send.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import { deploymentStatuses, type HealthMonitor, type Router } from "../router/index.js";

/** The model group of a request for a model no deployment serves. */
export const UNKNOWN_MODEL = "unknown";
/** The model group of a request that named no model (or was refused before its model was read). */
export const NO_MODEL = "none";
/** The route of a request that matched none. */
export const UNMATCHED_ROUTE = "(unmatched)";
/** The team of a key without one (or of the master key). */
export const NO_TEAM = "none";

/** A deployment's health as a scrape reads it. */
export interface DeploymentHealthSample {
  group: string;
  deployment: string;
  healthy: boolean;
}

/** What the scrape-time gauges read. */
export interface MetricsSources {
  /** Every configured deployment and whether it is healthy (in rotation and not cooling down). */
  health(): Promise<readonly DeploymentHealthSample[]>;
  /** Requests in flight in this process, a scrape in progress not counted. */
  inFlight(): number;
}

/**
 * Each configured deployment's health as `/health` judges it: not found unhealthy by its checks and not
 * cooling down. Wildcard variants (named by clients' models) are left out: their deployment speaks for them.
 */
export async function healthSamples(router: Router, health: HealthMonitor): Promise<DeploymentHealthSample[]> {
  const configured = new Set(router.tracked().flatMap((d) => (d.variantOf === undefined ? [d.id] : [])));
  const statuses = await deploymentStatuses(router, health);
  return statuses
    .filter((status) => configured.has(status.id))
    .map((status) => ({ group: status.group, deployment: status.id, healthy: status.health !== "unhealthy" && status.cooldown === undefined }));
}

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
const FIRST_TOKEN_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60];
const TOKEN_RATE_BUCKETS = [1, 5, 10, 20, 40, 80, 160, 320, 640, 1280];

let processRegistry: Registry | undefined;

/** prom-client's process and Node.js metrics, collected once per process. */
function processMetrics(): Registry {
  if (processRegistry === undefined) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

export class ProxyMetrics {
  /** This app's own metrics; `registries` adds the process's. */
  readonly registry = new Registry();
  private readonly on = [this.registry];
  /** Hands what the request path counted on its own to the counters (see request-metrics.ts). */
  private flushPending: () => void = () => undefined;
  /** Every counter runs it as it is collected, so that a scrape sees each count whole. */
  private readonly collect = (): void => this.flushPending();

  readonly requests = new Counter({
    name: "xgate_requests_total",
    help: "Requests answered, refusals included, by route, model group and status class (2xx, 4xx, 5xx).",
    labelNames: ["route", "model_group", "status_class"] as const,
    registers: this.on,
    collect: this.collect,
  });
  readonly requestDuration = new Histogram({
    name: "xgate_request_duration_seconds",
    help: "Time from a request's arrival to its last byte (a stream's end), by route and model group.",
    labelNames: ["route", "model_group"] as const,
    buckets: LATENCY_BUCKETS,
    registers: this.on,
  });
  readonly upstreamDuration = new Histogram({
    name: "xgate_upstream_duration_seconds",
    help: "Time of each upstream attempt, until its result was complete (a stream's end) or it failed, by model group, deployment and outcome.",
    labelNames: ["model_group", "deployment", "outcome"] as const,
    buckets: LATENCY_BUCKETS,
    registers: this.on,
  });
  readonly timeToFirstToken = new Histogram({
    name: "xgate_time_to_first_token_seconds",
    help: "Streams: time from a request's arrival until its first chunk was in hand and its answer began.",
    labelNames: ["model_group"] as const,
    buckets: FIRST_TOKEN_BUCKETS,
    registers: this.on,
  });
  readonly tokensPerSecond = new Histogram({
    name: "xgate_stream_tokens_per_second",
    help: "Streams: completion tokens over the time from the first chunk to the end.",
    labelNames: ["model_group"] as const,
    buckets: TOKEN_RATE_BUCKETS,
    registers: this.on,
  });
  readonly tokens = new Counter({
    name: "xgate_tokens_total",
    help: "Tokens of answered requests, by model group and direction (input: prompt, output: completion).",
    labelNames: ["model_group", "direction"] as const,
    registers: this.on,
    collect: this.collect,
  });
  readonly images = new Counter({
    name: "xgate_images_total",
    help: "Images generated or edited, by model group.",
    labelNames: ["model_group"] as const,
    registers: this.on,
    collect: this.collect,
  });
  readonly spend: Counter<string>;
  readonly cacheHits = new Counter({
    name: "xgate_cache_hits_total",
    help: "Embedding inputs the cache answered, by model group.",
    labelNames: ["model_group"] as const,
    registers: this.on,
    collect: this.collect,
  });
  readonly cacheMisses = new Counter({
    name: "xgate_cache_misses_total",
    help: "Embedding inputs the cache looked up and did not have, by model group.",
    labelNames: ["model_group"] as const,
    registers: this.on,
    collect: this.collect,
  });
  readonly cooldowns = new Counter({
    name: "xgate_deployment_cooldowns_total",
    help: "Times a deployment was taken out of the rotation by its failures, by model group and deployment.",
    labelNames: ["model_group", "deployment"] as const,
    registers: this.on,
    collect: this.collect,
  });
  readonly rateLimitRefusals = new Counter({
    name: "xgate_rate_limit_refusals_total",
    help: "Requests refused by a key's or team's rpm, tpm or max_parallel_requests, by model group and code.",
    labelNames: ["model_group", "code"] as const,
    registers: this.on,
    collect: this.collect,
  });
  readonly budgetRefusals = new Counter({
    name: "xgate_budget_refusals_total",
    help: "Requests refused because a key's or team's budget was spent, by model group.",
    labelNames: ["model_group"] as const,
    registers: this.on,
    collect: this.collect,
  });

  /** Spend also carries a `key_alias` label (`general_settings.metrics_key_labels`). */
  readonly keyLabels: boolean;

  constructor(sources: MetricsSources, options: { keyLabels: boolean }) {
    this.keyLabels = options.keyLabels;
    this.spend = new Counter({
      name: "xgate_spend_usd_total",
      help: `Spend of answered requests in USD, by model group and team${options.keyLabels ? " and key alias" : ""}.`,
      labelNames: options.keyLabels ? ["model_group", "team", "key_alias"] : ["model_group", "team"],
      registers: this.on,
      collect: this.collect,
    });
    new Gauge({
      name: "xgate_deployment_healthy",
      help: "1 while a deployment is healthy (its health checks pass and it is not cooling down), else 0; a process group shows the lowest of its workers'.",
      labelNames: ["model_group", "deployment"] as const,
      aggregator: "min",
      registers: this.on,
      async collect() {
        this.reset();
        for (const sample of await sources.health()) this.labels(sample.group, sample.deployment).set(sample.healthy ? 1 : 0);
      },
    });
    new Gauge({
      name: "xgate_in_flight_requests",
      help: "Requests being served now (a scrape of /metrics not counted).",
      registers: this.on,
      collect() {
        this.set(sources.inFlight());
      },
    });
    new Gauge({
      name: "xgate_workers_reporting",
      help: "Worker processes whose metrics this scrape adds up (1 without --num_workers; fewer than the workers when one did not answer in time).",
      registers: this.on,
      collect() {
        this.set(1);
      },
    });
  }

  /** What the counters run before they are read: at most one, the request path's tallies. */
  beforeCollect(flush: () => void): void {
    this.flushPending = flush;
  }

  /** This app's registry and the process's: what a scrape serves. */
  registries(): Registry[] {
    return [this.registry, processMetrics()];
  }
}
