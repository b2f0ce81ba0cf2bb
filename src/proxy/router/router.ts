/**
 * The router: picks a deployment of a model group, calls it, and on failure retries on another deployment,
 * cools failing deployments down, and falls back to other groups — within one deadline, and never waiting
 * for a deployment that is out: when nothing can answer it says so at once, with why, and when to come back
 * if waiting helps (see unavailable.ts).
 */
import { APITimeoutError, NotFoundError } from "../../errors.js";
import { startDeadline } from "../../core/deadline.js";
import { type Limiter, MemoryLimiter, type Quota, type Refusal, type Ticket, type Usage } from "../limits/index.js";
import { abortReason, type Clock, sleep, systemClock, untilAborted } from "./clock.js";
import { classify, describeFailure, type Failure, failedAlike, isRetryable, lastingCauseOf } from "./classify.js";
import { DEFAULT_NUM_RETRIES, type RouterSettings } from "./config.js";
import type { Deployment } from "./deployment.js";
import { deploymentScope, deploymentUsage, groupQuota, UNLIMITED_TICKET, usageOf } from "./deployment-limits.js";
import { type RouterLogger, silentLogger, throttledWarn } from "./logger.js";
import type { DeploymentStats, LastingCause, RouterState } from "./state.js";
import { type Random, type RoutingStrategy, strategyFor } from "./strategies/index.js";
import { type Absent, nothingAvailable } from "./unavailable.js";
import { WildcardVariants } from "./variants.js";

/** What one attempt gets besides the deployment. */
export interface CallContext {
  /** Aborted when the client goes away or the attempt runs out of time. */
  signal: AbortSignal;
  /** This attempt's time budget: the deployment's timeout, cut to what is left of the request's. */
  timeoutMs: number;
  /** 1 for the first call of the request, 2 for the next (a retry or a fallback), and so on. */
  attempt: number;
}

export type DeploymentCall<T> = (deployment: Deployment, context: CallContext) => Promise<T>;

export interface ExecuteOptions<T> {
  /** The client's signal: aborting it stops the request at once, waits included. */
  signal?: AbortSignal;
  /** The request's overall timeout; by default the router's request timeout, or a longer deployment timeout. */
  timeoutMs?: number;
  /** Tokens a result used, counted against its deployment's `tpm` in place of the estimate. */
  tokensOf?: (result: T) => number | undefined;
  /**
   * Tokens the request is expected to use: reserved against a deployment's `tpm` while it runs. Asked only
   * for a deployment with a `tpm` (a batch's estimate walks all its inputs: no request pays for it otherwise).
   */
  estimateTokens?: () => number;
  /**
   * For a result whose body is still streaming when the call resolves: a promise of its end, resolving with
   * the tokens it used (or rejecting with what broke it). The attempt lasts until then; undefined for a
   * result that is complete.
   */
  done?: (result: T) => Promise<number | undefined> | undefined;
  /**
   * What the client's model put in place of a wildcard group's `*` (`xinference/*` asked as
   * `xinference/bge-m3`: `bge-m3`). The calls go to the wildcard deployments made concrete for that model,
   * each with cooldowns, load and latency of its own.
   */
  wildcardMatch?: string;
}

export interface ExecuteResult<T> {
  result: T;
  /** The model group that answered: the one asked for, or a fallback. */
  group: string;
  deployment: Deployment;
  /** Calls made, the answering one included. */
  attempts: number;
  /** Fallback groups moved to before the answer (0 when the group asked for answered). */
  fallbacks: number;
  /** How long the answering call took. */
  upstreamMs: number;
  /** What is left of the answering group's `rpm`/`tpm`, this request counted: the `x-ratelimit-*` headers. */
  quota: Quota;
}

/** What the health checks last found about a deployment. */
export interface HealthFinding {
  status: "unknown" | "healthy" | "unhealthy";
  /** Why it is unhealthy, and how to fix it when the checks know (never a secret). */
  reason?: string | undefined;
  /**
   * What an unhealthy finding shows waiting will not cure (the uid not launched on its server:
   * "model-missing"; its server not answering: "unreachable"). Without it, a finding may pass.
   */
  cause?: LastingCause | undefined;
}

/** Health checks' say on which deployments may take requests. */
export interface Rotation {
  inRotation(id: string): boolean;
  /** When the next health pass may bring deployments back; undefined when none is scheduled. */
  nextCheckAt(): number | undefined;
  /**
   * The last finding on a deployment, so that a client whom no deployment can answer is told why (the
   * HealthMonitor's `get`). Without it the client hears only what the router saw.
   */
  get?(id: string): HealthFinding | undefined;
}

export interface RouterOptions {
  deployments: readonly Deployment[];
  settings: RouterSettings;
  state: RouterState;
  rotation?: Rotation;
  clock?: Clock;
  /** Waits between retries; by default a timer on `clock`. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  random?: Random;
  /** Overrides the strategy named in the settings. */
  strategy?: RoutingStrategy;
  logger?: RouterLogger;
  /** Where deployments' `rpm`/`tpm` are counted; by default in this process. */
  limiter?: Limiter;
  /** Told each time a deployment is taken out of the rotation by its failures (metrics count them). */
  onCooldown?: (deployment: Deployment) => void;
}

/** A Retry-After longer than this does not keep a deployment out longer: a bad header must not disable it. */
const MAX_UPSTREAM_COOLDOWN_MS = 5 * 60_000;
const BACKOFF_BASE_MS = 100;
const BACKOFF_MAX_MS = 2_000;

interface Rotated {
  available: Deployment[];
  stats: Map<string, DeploymentStats>;
  /** What the deployments' limits have counted, by scope key. */
  usage: Map<string, Usage>;
  /** The others: cooling down, out by health checks, or at their limit. */
  absent: Absent[];
}

interface Answered<T> {
  result: T;
  deployment: Deployment;
  upstreamMs: number;
  quota: Quota;
}

type AttemptOutcome<T> = { ok: true; result: T; upstreamMs: number } | { ok: false; failure: Failure };

interface FailedAttempt {
  failure: Failure;
  deployment: Deployment;
}

/** The mutable bookkeeping of one `execute` call. */
interface Run<T> {
  call: DeploymentCall<T>;
  options: ExecuteOptions<T>;
  deadline: number;
  attempts: number;
  /** Every failed attempt, in order. */
  failures: FailedAttempt[];
  /** The deployments a failure of this request was counted against: a request counts once against each. */
  counted: Set<string>;
  /**
   * Deployments whose server does not have the model asked for: asking them again cannot help, and asking
   * another costs no retry, since nothing failed.
   */
  lacking: Set<string>;
  /** Deployments at their `rpm`/`tpm` limit, by id: skipped for the rest of the request, counted against nothing. */
  limited: Map<string, Refusal>;
  /** The latest counts of the deployments' limits, by scope key, for the group's quota. */
  usage: Map<string, Usage>;
}

export class Router {
  readonly deployments: readonly Deployment[];
  readonly settings: RouterSettings;
  private readonly byGroup = new Map<string, Deployment[]>();
  private readonly state: RouterState;
  private readonly rotation: Rotation | undefined;
  private readonly clock: Clock;
  private readonly wait: (ms: number, signal?: AbortSignal) => Promise<void>;
  private readonly random: Random;
  private readonly strategy: RoutingStrategy;
  private readonly logger: RouterLogger;
  private readonly limiter: Limiter;
  private readonly onCooldown: ((deployment: Deployment) => void) | undefined;
  /** The limiter was made here (none was given): the router closes it. */
  private readonly ownsLimiter: boolean;
  private readonly warnStateError: (fields: object, message: string) => void;
  /** Bookkeeping writes not awaited by requests; `close()` lets them finish. */
  private readonly pending = new Set<Promise<unknown>>();
  private readonly variants = new WildcardVariants((id) => this.background(this.state.forget([id])));

  constructor(options: RouterOptions) {
    this.deployments = options.deployments;
    this.settings = options.settings;
    this.state = options.state;
    this.rotation = options.rotation;
    this.clock = options.clock ?? systemClock;
    this.wait = options.sleep ?? ((ms, signal) => sleep(this.clock, ms, signal));
    this.random = options.random ?? Math.random;
    this.strategy = options.strategy ?? strategyFor(options.settings.strategy);
    this.logger = options.logger ?? silentLogger;
    this.onCooldown = options.onCooldown;
    this.ownsLimiter = options.limiter === undefined;
    this.limiter = options.limiter ?? new MemoryLimiter({ clock: this.clock });
    this.warnStateError = throttledWarn(this.logger, () => this.clock.now());
    for (const deployment of this.deployments) {
      const members = this.byGroup.get(deployment.group) ?? [];
      members.push(deployment);
      this.byGroup.set(deployment.group, members);
    }
    const fallbackLists: [string, readonly string[]][] = [
      ...[...this.settings.fallbacks].map(([group, targets]): [string, readonly string[]] => [`fallbacks of '${group}'`, targets]),
      ["default_fallbacks", this.settings.defaultFallbacks],
    ];
    for (const [where, targets] of fallbackLists) {
      const unknown = targets.filter((target) => !this.byGroup.has(target));
      if (unknown.length > 0) {
        this.logger.warn({ unknown }, `${where} name model groups that model_list does not have; they are skipped`);
      }
    }
  }

  /** The groups tried after `group`, in order: its own `fallbacks`, else `default_fallbacks`. */
  fallbacksOf(group: string): string[] {
    const targets = this.settings.fallbacks.get(group) ?? this.settings.defaultFallbacks;
    return [...new Set(targets)].filter((target) => target !== group && this.byGroup.has(target));
  }

  /** The configured deployments, then the wildcard variants in use (least recently used first). */
  tracked(): Deployment[] {
    return [...this.deployments, ...this.variants.all()];
  }

  /** Current cooldowns, load and latency of every tracked deployment, for `/health` and metrics. */
  async stats(): Promise<Map<string, DeploymentStats>> {
    return this.readStats(this.tracked(), this.clock.now());
  }

  /**
   * Runs `call` on a deployment of `group`, retrying and falling back as configured.
   *
   * @example
   * const { result, group, deployment } = await router.execute("embed", (d, { signal, timeoutMs }) =>
   *   embedding({ model: d.model, input, api_base: d.apiBase, api_key: d.apiKey, timeout: timeoutMs / 1000, num_retries: 0, signal }),
   *   { signal: request.signal },
   * );
   */
  async execute<T>(group: string, call: DeploymentCall<T>, options: ExecuteOptions<T> = {}): Promise<ExecuteResult<T>> {
    throwIfAborted(options.signal);
    const primary = this.byGroup.get(group);
    if (primary === undefined) {
      throw new NotFoundError(`Model group '${group}' has no deployments; add one to model_list.`, { param: "model" });
    }
    const requestTimeoutMs =
      options.timeoutMs ?? Math.max(this.settings.requestTimeoutMs, ...primary.map((d) => d.timeoutMs));
    const run: Run<T> = {
      call,
      options,
      deadline: this.clock.now() + requestTimeoutMs,
      attempts: 0,
      failures: [],
      counted: new Set(),
      lacking: new Set(),
      limited: new Map(),
      usage: new Map(),
    };
    const groups = [group, ...this.fallbacksOf(group)];
    for (const [index, current] of groups.entries()) {
      if (index > 0) {
        this.logger.info({ group, fallback: current, attempts: run.attempts }, `falling back from '${group}' to '${current}'`);
      }
      const answer = await this.runGroup(current, run);
      if (answer !== undefined) {
        return { ...answer, group: current, attempts: run.attempts, fallbacks: index };
      }
    }
    // A failure is reported as it came, unless every deployment of every group is now out (this request's own
    // failures may have taken out the last ones): then the client learns why, and whether to come back.
    const members = groups.flatMap((each) => this.membersOf(each, options.wildcardMatch)).filter((d) => !run.lacking.has(d.id));
    const { available, absent, usage } = await this.rotationOf(members, run.limited);
    const last = run.failures.at(-1);
    if (available.length > 0 && last !== undefined) throw last.failure.error;
    throw nothingAvailable({
      groups,
      absent,
      now: this.clock.now(),
      nextCheckAt: this.rotation?.nextCheckAt(),
      defaultWaitMs: this.settings.cooldownMs,
      cause: last?.failure.error,
      quota: groupQuota(this.membersOf(group, options.wildcardMatch), new Map([...usage, ...run.usage])),
    });
  }

  /** The deployments a request for `group` calls: a wildcard's made concrete for the model asked for. */
  private membersOf(group: string, wildcardMatch: string | undefined): Deployment[] {
    const members = this.byGroup.get(group) ?? [];
    return wildcardMatch === undefined ? members : members.map((deployment) => this.variants.of(deployment, wildcardMatch));
  }

  /** The group's answer; undefined when its retries are used up, or none of its deployments is in the rotation. */
  private async runGroup<T>(group: string, run: Run<T>): Promise<Answered<T> | undefined> {
    const members = this.membersOf(group, run.options.wildcardMatch);
    let retriesLeft = this.retriesFor(members);
    const tried = new Set<string>();
    // Attempts made in this group, and the last one a retry already waited after.
    let attempt = 0;
    let waitedAfter = 0;
    for (;;) {
      throwIfAborted(run.options.signal);
      this.checkDeadline(run, group);
      const deployments = members.filter((d) => !run.lacking.has(d.id));
      if (deployments.length === 0) throw this.modelNotFound(group, run);
      let deployment = await this.pick(deployments, tried, run);
      if (deployment === undefined) return undefined;
      if (attempt > waitedAfter) {
        waitedAfter = attempt;
        const waitMs = this.retryWait(run, attempt, tried.has(deployment.id));
        // A wait that would outlast the request is not worth starting.
        if (this.clock.now() + waitMs >= run.deadline) return undefined;
        if (waitMs > 0) {
          await this.wait(waitMs, run.options.signal);
          // The rotation may have changed while we waited.
          deployment = await this.pick(deployments, tried, run);
          if (deployment === undefined) return undefined;
        }
      }
      const ticket = await this.admit(deployment, run);
      // At its limit: skipped for the rest of the request, without an attempt or a failure counted.
      if (ticket === undefined) continue;
      attempt++;
      tried.add(deployment.id);
      const outcome = await this.attempt(deployment, run, ticket);
      if (outcome.ok) return { result: outcome.result, deployment, upstreamMs: outcome.upstreamMs, quota: groupQuota(members, run.usage) };
      const { failure } = outcome;
      const twin = run.failures.find((earlier) => earlier.deployment.id !== deployment.id && failedAlike(earlier.failure, failure));
      run.failures.push({ failure, deployment });
      if (!isRetryable(failure)) throw failure.error;
      if (twin !== undefined) {
        this.logger.info(
          { group, deployments: [twin.deployment.id, deployment.id], status: failure.status },
          "the request failed the same way on two deployments: answering with that error rather than trying more",
        );
        throw failure.error;
      }
      if (failure.kind === "unknown-model") run.lacking.add(deployment.id);
      else if (retriesLeft-- === 0) return undefined;
    }
  }

  /** `num_retries` from the settings, else the largest `max_retries` of the group's deployments, else 2. */
  private retriesFor(deployments: readonly Deployment[]): number {
    if (this.settings.numRetries !== undefined) return this.settings.numRetries;
    const perDeployment = deployments.flatMap((d) => (d.maxRetries === undefined ? [] : [d.maxRetries]));
    return perDeployment.length > 0 ? Math.max(...perDeployment) : DEFAULT_NUM_RETRIES;
  }

  /**
   * Moving on to another deployment waits only `retry_after`; trying the same one again also waits for its
   * Retry-After and an exponential backoff with jitter, so a struggling upstream is not hammered.
   */
  private retryWait<T>(run: Run<T>, attempt: number, sameDeployment: boolean): number {
    const minimum = this.settings.retryAfterMinMs;
    if (!sameDeployment) return minimum;
    const backoff = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** (attempt - 1)) * (0.5 + this.random() / 2);
    return Math.max(minimum, run.failures.at(-1)?.failure.retryAfterMs ?? 0, backoff);
  }

  private checkDeadline<T>(run: Run<T>, group: string): void {
    if (this.clock.now() < run.deadline) return;
    const last = run.failures.at(-1);
    throw new APITimeoutError(
      `Request to model group '${group}' ran out of time after ${run.attempts} attempt(s)` +
        (last ? `; last error from deployment ${last.deployment.id}: ${describeFailure(last.failure)}` : ""),
      { cause: last?.failure.error },
    );
  }

  /** Every deployment of a wildcard group answered that it does not have the model the client named. */
  private modelNotFound<T>(group: string, run: Run<T>): NotFoundError {
    const last = run.failures.at(-1);
    const where = last === undefined ? "" : ` (${last.deployment.apiBase ?? `deployment ${last.deployment.id}`} answered ${describeFailure(last.failure)})`;
    return new NotFoundError(
      `Model '${last?.deployment.model ?? group}' was not found: no deployment of '${group}' has it${where}. ` +
        "Launch it on the model server, or ask for a model that is launched there.",
      { param: "model", cause: last?.failure.error },
    );
  }

  /** The deployments neither cooling down, nor out by health checks, nor at their limit (`limited`), and the others. */
  private async rotationOf(deployments: readonly Deployment[], limited: ReadonlyMap<string, Refusal>): Promise<Rotated> {
    const now = this.clock.now();
    const [stats, usage] = await Promise.all([this.readStats(deployments, now), deploymentUsage(this.limiter, deployments)]);
    const available: Deployment[] = [];
    const absent: Absent[] = [];
    for (const deployment of deployments) {
      const cooldown = stats.get(deployment.id)?.cooldown;
      const healthId = healthIdOf(deployment);
      const limit = limited.get(deployment.id);
      if (cooldown === undefined && limit === undefined && (this.rotation === undefined || this.rotation.inRotation(healthId))) {
        available.push(deployment);
      } else absent.push({ deployment, cooldown, finding: this.rotation?.get?.(healthId), limit });
    }
    return { available, stats, usage, absent };
  }

  /** A deployment in the rotation, from the lowest order tier that has one; one not tried yet when possible. */
  private async pick<T>(deployments: readonly Deployment[], tried: ReadonlySet<string>, run: Run<T>): Promise<Deployment | undefined> {
    const { available, stats, usage } = await this.rotationOf(deployments, run.limited);
    for (const [key, counted] of usage) run.usage.set(key, counted);
    if (available.length === 0) return undefined;
    const firstOrder = Math.min(...available.map((d) => d.order));
    const tier = available.filter((d) => d.order === firstOrder);
    const untried = tier.filter((d) => !tried.has(d.id));
    const pool = untried.length > 0 ? untried : tier;
    const chosen = this.strategy.pick(
      pool.map((deployment) => ({ deployment, stats: stats.get(deployment.id) ?? emptyStats(), usage: usageOf(deployment, usage) })),
      this.random,
    );
    return chosen.deployment;
  }

  /**
   * Counts an attempt against its deployment's `rpm`/`tpm`: the ticket the attempt holds until it is over,
   * or undefined (and the deployment remembered as limited for this request) when it is at a limit.
   */
  private async admit<T>(deployment: Deployment, run: Run<T>): Promise<Ticket | undefined> {
    const scope = deploymentScope(deployment);
    if (scope === undefined) return UNLIMITED_TICKET;
    const estimate = scope.limits.tpm === undefined ? 0 : (run.options.estimateTokens?.() ?? 0);
    const admission = await this.limiter.admit([scope], estimate);
    const counted = admission.admitted ? admission.ticket.usage : admission.refusal.usage;
    for (const [key, usage] of counted) run.usage.set(key, usage);
    if (admission.admitted) return admission.ticket;
    run.limited.set(deployment.id, admission.refusal);
    return undefined;
  }

  /** One call to a deployment; its ticket is held until the call (or its streamed body) is over, however it ends. */
  private async attempt<T>(deployment: Deployment, run: Run<T>, ticket: Ticket): Promise<AttemptOutcome<T>> {
    const callerSignal = run.options.signal;
    // The client left between admission and the call: nothing was served.
    if (callerSignal?.aborted) ticket.refund();
    throwIfAborted(callerSignal);
    await this.guard(this.state.begin(deployment.id), undefined);
    const started = this.clock.now();
    const timeoutMs = Math.min(deployment.timeoutMs, run.deadline - started);
    const deadline = startDeadline({
      timeoutMs,
      parent: callerSignal,
      setTimer: (ms, onTimeout) => this.clock.setTimer(ms, onTimeout),
      reason: () =>
        new APITimeoutError(`Deployment ${deployment.id} of '${deployment.group}' did not answer within ${timeoutMs / 1000} s`, {
          origin: "upstream",
        }),
    });
    run.attempts++;
    let result: T;
    try {
      result = await untilAborted(
        run.call(deployment, { signal: deadline.signal, timeoutMs, attempt: run.attempts }),
        deadline.signal,
      );
    } catch (error) {
      deadline.dispose();
      // What a failed call used is not known: its estimate stands.
      ticket.done();
      return { ok: false, failure: await this.failed(deployment, run, error, deadline.expired, started) };
    }
    const upstreamMs = this.clock.now() - started;
    const streaming = run.options.done?.(result);
    if (streaming === undefined) {
      deadline.dispose();
      ticket.done(run.options.tokensOf?.(result));
      this.background(this.state.end(deployment.id, { latencyMs: upstreamMs }, this.clock.now()));
    } else {
      // Committed to the client: no retry is possible now, but the attempt (its in-flight count, its ticket,
      // its deadline, its cancellation) lasts until the body is done, and a failure mid-body still counts
      // against the deployment.
      streaming.then(
        (tokens) => {
          deadline.dispose();
          ticket.done(tokens);
          this.background(this.state.end(deployment.id, { latencyMs: upstreamMs }, this.clock.now()));
        },
        (error: unknown) => {
          deadline.dispose();
          ticket.done();
          this.background(this.failed(deployment, run, error, deadline.expired, started).then(() => undefined, () => undefined));
        },
      );
    }
    return { ok: true, result, upstreamMs };
  }

  /**
   * Ends a failed attempt's bookkeeping and says what the failure was. A client that went away is nobody's
   * failure; an error that is not the upstream's (the gateway's own) is thrown on, counted against nothing.
   */
  private async failed<T>(deployment: Deployment, run: Run<T>, error: unknown, timedOut: boolean, started: number): Promise<Failure> {
    const callerSignal = run.options.signal;
    const elapsedMs = this.clock.now() - started;
    if (callerSignal?.aborted && !timedOut) {
      this.background(this.state.end(deployment.id, {}, this.clock.now()));
      throw abortReason(callerSignal);
    }
    const failure: Failure | undefined = timedOut
      ? { kind: "timeout", error: error instanceof Error ? error : new Error(String(error)), status: undefined, retryAfterMs: undefined }
      : classify(error, deployment.variantOf !== undefined);
    // A slow deployment is remembered as slow, so latency-based routing avoids it.
    const latencyMs = failure?.kind === "timeout" ? elapsedMs : undefined;
    await this.guard(this.state.end(deployment.id, { latencyMs }, this.clock.now()), undefined);
    if (failure === undefined) throw error;
    await this.recordFailure(deployment, failure, run);
    return failure;
  }

  /**
   * Cools a deployment down at once when its failure says it cannot answer now (misconfigured, rate limited,
   * nothing listening, or a 503 saying when to come back); otherwise once `allowed_fails` failures fall within
   * a minute — the third with the default 3 (LiteLLM waits for one more). One request counts once against a
   * deployment, however many attempts it made there: a request retried on a lone deployment must not take it
   * out by itself. The request's own mistakes (other 4xx, a model a wildcard server does not have) count
   * against no deployment.
   */
  private async recordFailure<T>(deployment: Deployment, failure: Failure, run: Run<T>): Promise<void> {
    if (failure.kind === "request" || failure.kind === "unknown-model") return;
    const now = this.clock.now();
    const immediate =
      failure.kind === "deployment" ||
      failure.kind === "rate-limit" ||
      failure.kind === "refused" ||
      (failure.status === 503 && failure.retryAfterMs !== undefined);
    let reason = describeFailure(failure);
    if (!immediate) {
      if (run.counted.has(deployment.id)) return;
      run.counted.add(deployment.id);
      const failures = await this.guard(this.state.recordFailure(deployment.id, now), 0);
      if (failures < this.settings.allowedFails) return;
      reason = `${failures} failures within a minute, the last ${reason}`;
    }
    const durationMs = Math.max(this.settings.cooldownMs, Math.min(failure.retryAfterMs ?? 0, MAX_UPSTREAM_COOLDOWN_MS));
    const until = now + durationMs;
    const cause = lastingCauseOf(failure);
    await this.guard(this.state.cool(deployment.id, { until, reason, ...(cause !== undefined && { cause }) }, now), undefined);
    this.onCooldown?.(deployment);
    this.logger.warn(
      { deployment: deployment.id, group: deployment.group, cooldown_ms: durationMs, reason },
      `deployment ${deployment.id} of '${deployment.group}' cooling down for ${durationMs / 1000} s`,
    );
  }

  private async readStats(deployments: readonly Deployment[], now: number): Promise<Map<string, DeploymentStats>> {
    return this.guard(
      this.state.stats(
        deployments.map((d) => d.id),
        now,
      ),
      new Map<string, DeploymentStats>(),
    );
  }

  /**
   * Shared state is advice: when it fails (Redis down or slow), the request goes on as if the state were
   * empty, rather than failing or hanging.
   */
  private async guard<V>(operation: Promise<V>, fallback: V): Promise<V> {
    try {
      return await operation;
    } catch (error) {
      this.warnStateError({ err: { message: (error as Error).message } }, "router state unavailable; routing without it");
      return fallback;
    }
  }

  /** Bookkeeping the response need not wait for. */
  private background(operation: Promise<void>): void {
    const guarded = this.guard(operation, undefined);
    this.pending.add(guarded);
    void guarded.finally(() => this.pending.delete(guarded));
  }

  /** Waits for pending bookkeeping, then releases the state (this instance's in-flight counts, connections). */
  async close(): Promise<void> {
    await Promise.all(this.pending);
    await this.state.close();
    if (this.ownsLimiter) await this.limiter.close();
  }
}

/** A wildcard variant is as healthy as the deployment it was made from: health checks know only that one. */
function healthIdOf(deployment: Deployment): string {
  return deployment.variantOf ?? deployment.id;
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortReason(signal);
}

function emptyStats(): DeploymentStats {
  return { cooldown: undefined, inFlight: 0, latencyMs: undefined };
}
