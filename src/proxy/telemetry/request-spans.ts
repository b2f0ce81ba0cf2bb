/**
 * The spans of a request: one SERVER span from its first hook to its last byte (a child of the client's
 * span when it sent a W3C `traceparent`), and a CLIENT span per upstream attempt under it, whose context
 * goes upstream as the attempt's `traceparent`. An answering attempt that streams ends with its body and
 * carries the answer's usage, as the request's span does.
 *
 * Spans carry names, numbers and codes only: never a prompt, an input or an output, a key, a query string,
 * an error's message (which may quote the request) or a whole api_base (which may hold credentials).
 */
import {
  type Attributes,
  type Context,
  defaultTextMapGetter,
  defaultTextMapSetter,
  type HrTime,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
  type Tracer,
} from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";
import type { FastifyReply, FastifyRequest } from "fastify";
import { APIError } from "../../errors.js";
import type { AttemptObserver, AttemptStart, AttemptWatch, RequestTrace } from "../pipeline/index.js";
import {
  ATTR_ERROR_TYPE,
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_GEN_AI_PROVIDER_NAME,
  ATTR_GEN_AI_REQUEST_MODEL,
  ATTR_GEN_AI_RESPONSE_MODEL,
  ATTR_GEN_AI_USAGE_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_OUTPUT_TOKENS,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  ATTR_XGATE_ATTEMPT,
  ATTR_XGATE_ATTEMPTS,
  ATTR_XGATE_CACHE_HITS,
  ATTR_XGATE_DEPLOYMENT,
  ATTR_XGATE_FALLBACK_FROM,
  ATTR_XGATE_FALLBACK_TO,
  ATTR_XGATE_MODEL_GROUP,
  EVENT_FALLBACK,
  EVENT_RETRY,
  
  generatesText,
} from "./span-attributes.js";

const propagator = new W3CTraceContextPropagator();

/** The HTTP conventions' methods; any other is `_OTHER`, so that a client cannot make up span names. */
const KNOWN_METHODS: ReadonlySet<string> = new Set(["CONNECT", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "TRACE", "QUERY"]);

/** A request in flight, as its attempts add to it. */
interface TracedRequest {
  readonly span: Span;
  /** The request span's context: its attempts' parent. */
  readonly context: Context;
  /** The group of the last attempt: the next one on another group is a fallback. */
  lastGroup: string | undefined;
  /** `error.type` of the last failed attempt, for the retry or fallback that follows it. */
  lastError: string | undefined;
  /** The model the answering attempt asked its upstream for. */
  responseModel: string | undefined;
  /** The answering attempt, ended but waiting for the request's usage (its end time kept). */
  answering: { span: Span; endTime: number } | undefined;
  /** Once the request's span has ended: its usage, for an answering attempt that ends after it. */
  usage: Attributes | undefined;
}

/** `ms` milliseconds before `time`. */
function before(time: HrTime, ms: number): HrTime {
  const nanos = time[1] - Math.round(ms * 1e6);
  const seconds = Math.floor(nanos / 1e9);
  return [time[0] + seconds, nanos - seconds * 1e9];
}

function errorType(error: unknown): string {
  return error instanceof APIError ? error.code : "_OTHER";
}

/** An attempt's failure: its code and the upstream's status, never its message. */
function markFailed(span: Span, error: unknown): void {
  span.setAttribute(ATTR_ERROR_TYPE, errorType(error));
  if (error instanceof APIError && error.origin === "upstream" && error.status !== undefined) {
    span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, error.status);
  }
  span.setStatus({ code: SpanStatusCode.ERROR });
}

/** `server.address` and `server.port` of an api_base: its host alone, without user info, path or query. */
function serverOf(apiBase: string): Attributes {
  try {
    const url = new URL(apiBase);
    const port = url.port === "" ? (url.protocol === "https:" ? 443 : 80) : Number(url.port);
    return { [ATTR_SERVER_ADDRESS]: url.hostname.replace(/^\[(.*)\]$/, "$1"), [ATTR_SERVER_PORT]: port };
  } catch {
    return {};
  }
}

/** Input tokens where the operation counts them; output tokens for operations that generate text. */
function usageOf(trace: RequestTrace | null, operation: string | undefined): Attributes {
  if (trace === null) return {};
  const text = generatesText(operation);
  const input = trace.inputTokens;
  const output = trace.outputTokens;
  return {
    ...(input !== undefined && (text || input > 0) && { [ATTR_GEN_AI_USAGE_INPUT_TOKENS]: input }),
    ...(output !== undefined && (text || output > 0) && { [ATTR_GEN_AI_USAGE_OUTPUT_TOKENS]: output }),
  };
}

export class RequestSpans {
  /** By request id (xgate's own UUIDs: a client cannot make two requests share one). */
  private readonly open = new Map<string, TracedRequest>();
  readonly attempts: AttemptObserver = { started: (attempt) => this.attemptStarted(attempt) };

  constructor(private readonly tracer: Tracer) {}

  /** Starts the request's span; it ends when the response is closed — after its last byte, or the client gone. */
  start(request: FastifyRequest, reply: FastifyReply): void {
    const parent = propagator.extract(ROOT_CONTEXT, request.headers, defaultTextMapGetter);
    const method = KNOWN_METHODS.has(request.method) ? request.method : "_OTHER";
    // The matched pattern, never the URL: a path may hold a capability (a hosted image's name).
    const route = request.routeOptions.url;
    const span = this.tracer.startSpan(
      route === undefined ? method : `${method} ${route}`,
      { kind: SpanKind.SERVER, attributes: { [ATTR_HTTP_REQUEST_METHOD]: method, [ATTR_HTTP_ROUTE]: route } },
      parent,
    );
    const traced: TracedRequest = {
      span,
      context: trace.setSpan(parent, span),
      lastGroup: undefined,
      lastError: undefined,
      responseModel: undefined,
      answering: undefined,
      usage: undefined,
    };
    this.open.set(request.id, traced);
    reply.raw.once("close", () => this.end(request, reply, traced));
  }

  private end(request: FastifyRequest, reply: FastifyReply, traced: TracedRequest): void {
    this.open.delete(request.id);
    const { span } = traced;
    const info = request.trace;
    const completed = reply.raw.writableEnded;
    const status = reply.raw.headersSent ? reply.statusCode : undefined;
    const operation = info?.operation;
    const usage = usageOf(info, operation);
    span.setAttributes({
      [ATTR_HTTP_RESPONSE_STATUS_CODE]: status,
      [ATTR_GEN_AI_OPERATION_NAME]: operation,
      [ATTR_GEN_AI_REQUEST_MODEL]: info?.model,
      [ATTR_GEN_AI_RESPONSE_MODEL]: traced.responseModel,
      [ATTR_XGATE_MODEL_GROUP]: info?.group,
      [ATTR_XGATE_DEPLOYMENT]: info?.deployment,
      [ATTR_XGATE_ATTEMPTS]: info?.attempts,
      [ATTR_XGATE_CACHE_HITS]: info?.cacheHits,
      ...usage,
    });
    if (operation !== undefined && info?.model !== undefined) span.updateName(`${operation} ${info.model}`);
    // The client gone before the end: its code is written by the error handler after this, if at all.
    const failure = info?.errorCode ?? (completed ? undefined : "client_closed_request");
    if (failure !== undefined) span.setAttribute(ATTR_ERROR_TYPE, failure);
    // As the HTTP conventions have it, a server span's 4xx is the client's mistake and leaves the status
    // unset; a 5xx, an answer broken off after its 200, or one never finished is an error.
    const brokenOff = failure !== undefined && (status === undefined || status < 400);
    if (!completed || brokenOff || (status !== undefined && status >= 500)) span.setStatus({ code: SpanStatusCode.ERROR });
    traced.usage = usage;
    span.end();
    const endedAt = performance.now();
    const answering = traced.answering;
    if (answering !== undefined) {
      answering.span.setAttributes(usage);
      // Its end is given on the request's clock, as so long before the request's end: each span turns the
      // monotonic clock into wall-clock time with an offset of its own, taken at its start to the
      // millisecond, so an attempt that ended a moment before its request could be exported after it.
      // (A span not sampled keeps no end time.)
      const requestEnd = (span as unknown as Partial<ReadableSpan>).endTime;
      answering.span.end(requestEnd === undefined ? answering.endTime : before(requestEnd, endedAt - answering.endTime));
    }
  }

  private attemptStarted(attempt: AttemptStart): AttemptWatch {
    const { deployment, context, target } = attempt;
    const traced = this.open.get(attempt.requestId);
    if (traced !== undefined) this.noteRetryOrFallback(traced, attempt);
    const parent = traced?.context ?? ROOT_CONTEXT;
    const operation = attempt.operation;
    const span = this.tracer.startSpan(
      `${operation} ${target.uid}`,
      {
        kind: SpanKind.CLIENT,
        attributes: {
          [ATTR_GEN_AI_OPERATION_NAME]: operation,
          [ATTR_GEN_AI_REQUEST_MODEL]: target.uid,
          [ATTR_GEN_AI_PROVIDER_NAME]: target.provider.name,
          ...serverOf(target.upstream.apiBase),
          [ATTR_XGATE_DEPLOYMENT]: deployment.id,
          [ATTR_XGATE_MODEL_GROUP]: deployment.group,
          [ATTR_XGATE_ATTEMPT]: context.attempt,
        },
      },
      parent,
    );
    const headers: Record<string, string> = {};
    propagator.inject(trace.setSpan(parent, span), headers, defaultTextMapSetter);
    return {
      headers,
      failed: (error) => {
        markFailed(span, error);
        if (traced !== undefined) traced.lastError = errorType(error);
        span.end();
      },
      ended: (_elapsedMs, error) => {
        if (error !== undefined) markFailed(span, error);
        else span.setAttribute(ATTR_GEN_AI_RESPONSE_MODEL, target.uid);
        if (error !== undefined || traced === undefined) return span.end();
        traced.responseModel = target.uid;
        if (traced.usage !== undefined) {
          span.setAttributes(traced.usage);
          return span.end();
        }
        // An answer the router gave up on (out of time as it came) is not the one answering.
        traced.answering?.span.end(traced.answering.endTime);
        traced.answering = { span, endTime: performance.now() };
      },
    };
  }

  /** Events on the request's span: a retry on its group, or a fallback to another. */
  private noteRetryOrFallback(traced: TracedRequest, { group, deployment, context }: AttemptStart): void {
    const previous = traced.lastGroup ?? group;
    traced.lastGroup = deployment.group;
    // Event attributes keep undefined values (span attributes drop them): only what is known is added.
    const cause = traced.lastError === undefined ? {} : { [ATTR_ERROR_TYPE]: traced.lastError };
    if (deployment.group !== previous) {
      traced.span.addEvent(EVENT_FALLBACK, { [ATTR_XGATE_FALLBACK_FROM]: previous, [ATTR_XGATE_FALLBACK_TO]: deployment.group, [ATTR_XGATE_ATTEMPT]: context.attempt, ...cause });
    } else if (context.attempt > 1) {
      traced.span.addEvent(EVENT_RETRY, { [ATTR_XGATE_ATTEMPT]: context.attempt, [ATTR_XGATE_DEPLOYMENT]: deployment.id, ...cause });
    }
  }
}
