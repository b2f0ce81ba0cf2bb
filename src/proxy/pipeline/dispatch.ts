/**
 * The dispatch stage: a parsed request to the deployment that answers it. Resolves the client's model to a
 * group, lets the router pick deployments, retry and fall back, and runs the operation on each attempt with
 * a target made from the deployment — its connection as the settings resolved it, its provider parameters,
 * the attempt's signal as the one deadline. The router imports no provider; this stage is where the two meet.
 */
import { type Operation, type OperationKind, type OperationTarget } from "../../operations/index.js";
import { resolveModel } from "../../providers/index.js";
import { fallbackApiBase, type UpstreamTarget } from "../../upstream/target.js";
import type { Quota } from "../limits/index.js";
import type { Pricing } from "../spend/cost.js";
import type { ModelResolver } from "../model-resolver.js";
import type { AudioUse, CallContext, Deployment, DeploymentCall, HealthMonitor, LlmNeeds, Router } from "../router/index.js";
import type { ParsedRequest } from "./parse.js";

export interface Dispatched<Result> {
  result: Result;
  group: string;
  deploymentId: string;
  /** Where the answering call went. */
  apiBase: string | undefined;
  /** The answering deployment's prices. */
  pricing: Pricing;
  /** Calls made, the answering one included. */
  attempts: number;
  fallbackUsed: boolean;
  /** Time spent waiting on the deployment that answered. */
  upstreamMs: number;
  /** What is left of the model group's `rpm`/`tpm`, this request counted. */
  quota: Quota;
}

/** The target of one attempt on one deployment: the router owns retries and the deadline, so the transport has neither. */
export function attemptTarget(deployment: Deployment, context: CallContext, parsed: ParsedRequest<unknown>): OperationTarget {
  const { provider, uid } = resolveModel(deployment.model);
  const client = parsed.client;
  const upstream: UpstreamTarget = {
    provider: provider.name,
    label: provider.connection.label,
    apiBase: client?.apiBase ?? deployment.apiBase ?? fallbackApiBase(provider.connection),
    apiKey: client?.apiKey ?? deployment.apiKey,
    timeoutMs: Number.POSITIVE_INFINITY,
    numRetries: 0,
    extraHeaders: {},
    signal: context.signal,
  };
  return { provider, uid, upstream, params: deployment.extras, dropParams: parsed.dropParams };
}

/** One call the router makes for a request, as observers are told of it when it starts. */
export interface AttemptStart {
  requestId: string;
  /** What the operation is; its values are also GenAI's `gen_ai.operation.name` (chat, embeddings…). */
  operation: OperationKind;
  /** The model group the request was sent to: an attempt on another group is a fallback. */
  group: string;
  deployment: Deployment;
  /** `context.attempt` above 1 is a retry, or the first call of a fallback. */
  context: CallContext;
  /** The call's target: its `upstream.apiBase` may carry credentials in its user info, never to be shown whole. */
  target: OperationTarget;
}

/** What an observer makes of one attempt: headers for its upstream call, and how it ends. */
export interface AttemptWatch {
  /** Sent upstream with the attempt's call (e.g. `traceparent`); lower-cased names. */
  readonly headers?: Readonly<Record<string, string>>;
  /** The call failed without an answer: the router may retry or fall back. */
  failed?(error: unknown, elapsedMs: number): void;
  /**
   * The call answered and its result is complete: at once for a whole result, when its body ends for a
   * streamed one (the router's `done`), with `error` when the body broke off. Not called after `failed`.
   */
  ended?(elapsedMs: number, error?: unknown): void;
}

/** Told of every call the router makes for a request (metrics, debug logs, traces). */
export interface AttemptObserver {
  /** Undefined: nothing more to hear of this attempt. */
  started(attempt: AttemptStart): AttemptWatch | undefined;
}

function endAll(watches: readonly AttemptWatch[], elapsedMs: number, error?: unknown): void {
  for (const watch of watches) watch.ended?.(elapsedMs, error);
}

/** The attempt's call, its observers told as it starts, fails, and ends (a streamed body included). */
function observedCall<Request, Result>(
  operation: Operation<Request, Result>,
  parsed: ParsedRequest<Request>,
  observers: readonly AttemptObserver[],
  requestId: string,
  group: string,
): DeploymentCall<Result> {
  return async (deployment, context) => {
    const target = attemptTarget(deployment, context, parsed);
    const watches: AttemptWatch[] = [];
    for (const observer of observers) {
      const watch = observer.started({ requestId, operation: operation.kind, group, deployment, context, target });
      if (watch === undefined) continue;
      watches.push(watch);
      if (watch.headers !== undefined) Object.assign(target.upstream.extraHeaders, watch.headers);
    }
    const started = performance.now();
    let result: Result;
    try {
      result = await operation.run(parsed.request, target);
    } catch (error) {
      const elapsedMs = performance.now() - started;
      for (const watch of watches) watch.failed?.(error, elapsedMs);
      throw error;
    }
    const body = operation.done?.(result);
    if (body === undefined) endAll(watches, performance.now() - started);
    else {
      body.then(
        () => endAll(watches, performance.now() - started),
        (error: unknown) => endAll(watches, performance.now() - started, error),
      );
    }
    return result;
  };
}

export class Dispatcher {
  constructor(
    private readonly router: Router,
    private readonly health: HealthMonitor,
    private readonly resolver: ModelResolver,
    /** Who hears of each attempt (metrics, debug logging, traces); empty: the calls are not wrapped at all. */
    private readonly observers: readonly AttemptObserver[] = [],
  ) {}

  /** Throws a 400 when the model's servers report it cannot do this image edit, before any GPU work. */
  assertCanEdit(requestedModel: string, withMask: boolean): void {
    const { group, wildcardMatch } = this.resolver.resolve(requestedModel);
    this.health.checkEdit(group, withMask, wildcardMatch);
  }

  /** Throws a 400 when the model's servers report it cannot take this chat or text completion, before any GPU work. */
  assertCanComplete(requestedModel: string, needs: LlmNeeds): void {
    const { group, wildcardMatch } = this.resolver.resolve(requestedModel);
    this.health.checkLlm(group, wildcardMatch, needs, requestedModel);
  }

  /** Throws a 400 when the model's servers report it cannot take this audio call, before any upload reaches a GPU. */
  assertCanAudio(requestedModel: string, use: AudioUse): void {
    this.health.checkAudio(this.resolver.resolve(requestedModel).group, use);
  }

  async dispatch<Request, Result>(
    operation: Operation<Request, Result>,
    parsed: ParsedRequest<Request>,
    signal: AbortSignal,
    requestId: string,
  ): Promise<Dispatched<Result>> {
    const { group, wildcardMatch } = this.resolver.resolve(parsed.model);
    const call: DeploymentCall<Result> =
      this.observers.length === 0
        ? (deployment, context) => operation.run(parsed.request, attemptTarget(deployment, context, parsed))
        : observedCall(operation, parsed, this.observers, requestId, group);
    const estimate = operation.estimateTokens;
    const outcome = await this.router.execute(group, call, {
      signal,
      ...(wildcardMatch !== undefined && { wildcardMatch }),
      ...(operation.tokensOf !== undefined && { tokensOf: operation.tokensOf }),
      ...(estimate !== undefined && { estimateTokens: () => estimate(parsed.request) }),
      ...(operation.done !== undefined && { done: operation.done }),
    });
    return {
      result: outcome.result,
      group: outcome.group,
      deploymentId: outcome.deployment.id,
      apiBase: parsed.client?.apiBase ?? outcome.deployment.apiBase,
      pricing: outcome.deployment.pricing,
      attempts: outcome.attempts,
      fallbackUsed: outcome.fallbacks > 0,
      upstreamMs: outcome.upstreamMs,
      quota: outcome.quota,
    };
  }
}
