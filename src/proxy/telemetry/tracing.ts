/**
 * OpenTelemetry traces: a tracer provider the app owns (nothing is registered globally, nothing else is
 * instrumented), its spans batched and posted as OTLP/HTTP JSON. Made only when the settings turn traces
 * on: otherwise the app installs no hook and no attempt observer, and its request path is what it was.
 */
import { type ExportResult, ExportResultCode } from "@opentelemetry/core";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { defaultResource, resourceFromAttributes } from "@opentelemetry/resources";
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BasicTracerProvider,
  BatchSpanProcessor,
  ParentBasedSampler,
  type ReadableSpan,
  type Sampler,
  type SpanExporter,
  TraceIdRatioBasedSampler,
} from "@opentelemetry/sdk-trace-base";
import type { FastifyInstance } from "fastify";
import { Agent as HttpAgent } from "node:http";
import { Agent as HttpsAgent } from "node:https";
import type { Logger } from "pino";
import type { AttemptObserver } from "../pipeline/index.js";
import { RequestSpans } from "./request-spans.js";
import { ATTR_SERVICE_NAME } from "./span-attributes.js";
import type { SamplerSettings, TracingSettings } from "./tracing-settings.js";

export type { TracingSettings } from "./tracing-settings.js";

/**
 * One export's limit, the exporter's retries included: a collector slower than this loses the batch rather
 * than holding spans in memory. No longer than a stop waits, so that nothing of an export outlives the stop.
 */
const EXPORT_TIMEOUT_MS = 5_000;
/** How long a stop waits for the last spans to go out. */
const CLOSE_TIMEOUT_MS = 5_000;
/** A collector that is down is said once a minute, not once a batch. */
const WARN_EVERY_MS = 60_000;

export interface Tracing {
  /** Makes a span per upstream attempt, and gives each attempt its `traceparent`. */
  readonly attempts: AttemptObserver;
  /** Adds the hook that gives each request its span: before the app's own hooks, so that a refusal is traced too. */
  install(app: FastifyInstance): void;
  /** Exports the spans not yet sent, and stops; within CLOSE_TIMEOUT_MS whatever the collector does. */
  close(): Promise<void>;
}

/** Where spans went, said in the log without user info or query (they may hold credentials). */
function collectorOf(url: string): string {
  const parsed = new URL(url);
  return `${parsed.origin}${parsed.pathname}`;
}

/** The exporter, saying in the log when spans could not be exported (the SDK alone would be silent). */
function loggedExporter(exporter: SpanExporter, logger: Logger, collector: string): SpanExporter {
  let warnedAt = Number.NEGATIVE_INFINITY;
  return {
    export(spans: ReadableSpan[], done: (result: ExportResult) => void) {
      exporter.export(spans, (result) => {
        const now = performance.now();
        if (result.code !== ExportResultCode.SUCCESS && now - warnedAt >= WARN_EVERY_MS) {
          warnedAt = now;
          logger.warn({ collector, spans: spans.length, err: { message: result.error?.message } }, `could not export traces to ${collector}`);
        }
        done(result);
      });
    },
    shutdown: () => exporter.shutdown(),
    forceFlush: () => exporter.forceFlush?.() ?? Promise.resolve(),
  };
}

/** Resolves when `work` settles or `ms` have passed, whichever is first; true when it was in time. */
async function within(ms: number, work: Promise<unknown>): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
    timer.unref();
  });
  try {
    return await Promise.race([work.then(() => true, () => true), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** The SDK's sampler for the settings; by default a client's sampling decision stands and xgate traces every trace it starts. */
function samplerOf(settings: SamplerSettings): Sampler {
  const root =
    settings.root === "always_on" ? new AlwaysOnSampler() : settings.root === "always_off" ? new AlwaysOffSampler() : new TraceIdRatioBasedSampler(settings.ratio);
  return settings.parentBased ? new ParentBasedSampler({ root }) : root;
}

export function createTracing(settings: TracingSettings, logger: Logger): Tracing {
  const collector = collectorOf(settings.url);
  // The exporter's connections are ours, so that a stop can end an export still hanging on the collector.
  const agents: HttpAgent[] = [];
  const exporter = new OTLPTraceExporter({
    url: settings.url,
    headers: { ...settings.headers },
    timeoutMillis: EXPORT_TIMEOUT_MS,
    httpAgentOptions: (protocol) => {
      const agent = protocol === "https:" ? new HttpsAgent({ keepAlive: true }) : new HttpAgent({ keepAlive: true });
      agents.push(agent);
      return agent;
    },
  });
  const provider = new BasicTracerProvider({
    resource: defaultResource().merge(resourceFromAttributes({ ...settings.resourceAttributes, [ATTR_SERVICE_NAME]: settings.serviceName })),
    sampler: samplerOf(settings.sampler),
    spanProcessors: [new BatchSpanProcessor(loggedExporter(exporter, logger, collector), { exportTimeoutMillis: EXPORT_TIMEOUT_MS })],
  });
  const spans = new RequestSpans(provider.getTracer("xgate"));
  return {
    attempts: spans.attempts,
    install(app) {
      app.addHook("onRequest", function startRequestSpan(request, reply, done) {
        spans.start(request, reply);
        done();
      });
    },
    async close() {
      if (!(await within(CLOSE_TIMEOUT_MS, provider.shutdown()))) {
        logger.warn({ collector }, `traces not exported to ${collector} within ${CLOSE_TIMEOUT_MS / 1000} s of the stop were dropped`);
      }
      for (const agent of agents) agent.destroy();
    },
  };
}
