/**
 * The dispatch stage: a parsed request to the deployment that answers it. Resolves the client's model to a
 * group, lets the router pick deployments, retry and fall back, and runs the operation on each attempt with
 * a target made from the deployment — its connection as the settings resolved it, its provider parameters,
 * the attempt's signal as the one deadline. The router imports no provider; this stage is where the two meet.
 */
import { type Operation, type OperationTarget } from "../../operations/index.js";
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

/** Told of every call the router makes for a request, as it starts and when it fails: what debug logs show. */
export interface AttemptObserver {
  /** `context.attempt` above 1 is a retry, or the first call of a fallback. */
  started(requestId: string, deployment: Deployment, context: CallContext): void;
  failed(requestId: string, deployment: Deployment, context: CallContext, error: unknown, elapsedMs: number): void;
}

function observed<T>(call: DeploymentCall<T>, observer: AttemptObserver, requestId: string): DeploymentCall<T> {
  return async (deployment, context) => {
    observer.started(requestId, deployment, context);
    const started = performance.now();
    try {
      return await call(deployment, context);
    } catch (error) {
      observer.failed(requestId, deployment, context, error, performance.now() - started);
      throw error;
    }
  };
}

export class Dispatcher {
  constructor(
    private readonly router: Router,
    private readonly health: HealthMonitor,
    private readonly resolver: ModelResolver,
    /** Undefined unless something listens (debug logging): the calls are then not wrapped at all. */
    private readonly observer?: AttemptObserver,
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
    const call: DeploymentCall<Result> = (deployment, context) => operation.run(parsed.request, attemptTarget(deployment, context, parsed));
    const estimate = operation.estimateTokens;
    const outcome = await this.router.execute(
      group,
      this.observer === undefined ? call : observed(call, this.observer, requestId),
      {
        signal,
        ...(wildcardMatch !== undefined && { wildcardMatch }),
        ...(operation.tokensOf !== undefined && { tokensOf: operation.tokensOf }),
        ...(estimate !== undefined && { estimateTokens: () => estimate(parsed.request) }),
        ...(operation.done !== undefined && { done: operation.done }),
      },
    );
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
