/**
 * Health of the deployments, checked in the background from start and, with `background_health_checks`, every
 * `health_check_interval` seconds. A pass reads each model server's model list once (not once per
 * deployment): a configured uid that is not launched makes its deployment unhealthy, with a reason naming the
 * uid and the server, or is launched when `model_info.auto_launch` says how. The abilities the server reports
 * are kept, so an impossible image edit is refused before any GPU work. An optional probe (a real call) runs on
 * each deployment that passed the listing.
 *
 * With background checks on, unhealthy deployments leave the rotation and come back when a pass finds them
 * healthy. With them off there is only the start pass, which must not remove a deployment for good: its
 * findings are reported and logged, and the router's cooldowns deal with failures as they happen.
 *
 * Nothing waits on an upstream without a bound, and serving waits on none: the first pass runs in the
 * background (deployments not yet checked are in the rotation meanwhile); each model list and probe is cut
 * after the check timeout, is never retried and never waits out a Retry-After; a few run at a time; and an
 * auto-launch, which can take minutes, runs apart from the pass, which reports it as under way.
 */
import { APIError, BadRequestError } from "../../errors.js";
import { type AudioUse, audioRefusal, editRefusal, type LlmNeeds, llmRefusal, type ModelCapabilities } from "./abilities.js";
import { type Clock, systemClock, untilAborted } from "./clock.js";
import type { LastingCause } from "./state.js";
import type { Deployment } from "./deployment.js";
import { type RouterLogger, silentLogger } from "./logger.js";
import type { LaunchRequest, ModelServerClient, ServedModel, ServerTarget } from "./model-servers.js";
import type { Rotation } from "./router.js";

export type HealthStatus = "unknown" | "healthy" | "unhealthy";

export interface DeploymentHealth {
  status: HealthStatus;
  /** Why it is unhealthy (never a secret). */
  reason?: string;
  /** Set when waiting will not cure it (the uid is not launched and nothing will launch it). */
  cause?: LastingCause;
  /** Epoch ms of the check that set this status; undefined until one has. */
  checkedAt?: number;
  /** What the model server reports of the model, when it lists it. */
  modelType?: string;
  abilities?: readonly string[];
  /** A wildcard deployment's: every model its server lists, as the last check found them. */
  models?: readonly ServedModel[];
  /** Whether the deployment's uid is launched on its server, as the last listing found it (not for wildcards). */
  launch?: LaunchState;
}

export type LaunchState = "launched" | "not_launched" | "launching";

/** A real call to one deployment; rejects when the deployment cannot serve. */
export type HealthProbe = (deployment: Deployment, signal: AbortSignal) => Promise<void>;

export interface HealthMonitorOptions {
  /** `general_settings.background_health_checks`. */
  background: boolean;
  /** `general_settings.health_check_interval`, in ms. */
  intervalMs: number;
  /** `general_settings.health_check_timeout`, in ms: the longest wait for one model list or probe, and for a report. */
  checkTimeoutMs: number;
  servers?: ModelServerClient;
  probe?: HealthProbe;
  clock?: Clock;
  logger?: RouterLogger;
  /** How many model lists and probes may run at once. */
  concurrency?: number;
  /** Longest wait for an auto-launch (weights may have to be downloaded). */
  launchTimeoutMs?: number;
}

/** What a report can say: the findings of the pass it waited for, and what that pass had not finished with. */
export interface HealthView {
  /** Epoch ms the pass began; undefined when no pass ran (the monitor was stopped first). */
  passStartedAt: number | undefined;
  /** The deployments still being checked when the report was due, with what to report for each. */
  unfinished: ReadonlyMap<string, string>;
}

/** How far the checks have come, from memory. */
export interface HealthSummary {
  /** Deployments a check has finished with at least once. */
  checked: number;
  /** Deployments no check has finished with yet (the first pass is still running on them). */
  pending: number;
  healthy: number;
  unhealthy: number;
}

const DEFAULT_CONCURRENCY = 8;
const DEFAULT_LAUNCH_TIMEOUT_MS = 15 * 60_000;
/** An interval of 0 (or a typo) must not make the checks run back to back. */
const MIN_INTERVAL_MS = 1_000;

interface ServerGroup {
  target: ServerTarget;
  members: { deployment: Deployment; uid: string }[];
  /** Wildcard deployments on this server: they reach whatever it lists. */
  wildcards: Deployment[];
}

/**
 * Where a pass stands with the deployments it has not finished with: each is waiting for a free slot, or has
 * a call running since `since`, whose failure would read `failure(why)`.
 */
type Progress = Map<string, { since: number; failure: (why: string) => string } | "waiting">;

/** `model_info.auto_launch` as a launch request; undefined when there is none, a string saying what is wrong with it. */
function autoLaunchOf(deployment: Deployment, uid: string): LaunchRequest | string | undefined {
  const spec = deployment.modelInfo.auto_launch;
  if (spec === undefined || spec === null || spec === false) return undefined;
  if (typeof spec !== "object" || Array.isArray(spec)) return "model_info.auto_launch must be a mapping with model_name and model_type";
  const options = spec as Record<string, unknown>;
  if (typeof options.model_name !== "string" || options.model_name === "") {
    return "model_info.auto_launch needs model_name (the builtin model to launch, e.g. bge-base-en)";
  }
  if (typeof options.model_type !== "string" || options.model_type === "") {
    return "model_info.auto_launch needs model_type (embedding, image or rerank)";
  }
  return { ...options, model_name: options.model_name, model_type: options.model_type, model_uid: uid };
}

/** `1500` → `1.5`: seconds as messages show them. */
function seconds(ms: number): string {
  return String(Math.round(ms / 100) / 10);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Why a check failed; a 503 is Xinference's answer for a model still loading, with when to come back. */
function failureOf(error: unknown): string {
  if (error instanceof APIError && error.status === 503) {
    const retry = error.retryAfterMs === undefined ? "" : `, Retry-After: ${seconds(error.retryAfterMs)} s`;
    return `still loading (503${retry}): ${error.message}`;
  }
  return messageOf(error);
}

function serverKey(target: ServerTarget): string {
  return `${target.apiBase ?? ""}\n${target.apiKey ?? ""}`;
}

/** At most `limit` operations at once; the others wait their turn, in order. */
class Slots {
  private free: number;
  private readonly waiting: (() => void)[] = [];

  constructor(readonly limit: number) {
    this.free = Math.max(1, limit);
  }

  async run<V>(operation: () => Promise<V>): Promise<V> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await operation();
    } finally {
      const next = this.waiting.shift();
      if (next === undefined) this.free++;
      else next();
    }
  }
}

export class HealthMonitor implements Rotation {
  private readonly health = new Map<string, DeploymentHealth>();
  private readonly clock: Clock;
  private readonly logger: RouterLogger;
  private readonly intervalMs: number;
  private readonly slots: Slots;
  private started = false;
  private running: Promise<void> | undefined;
  /** The pass in flight: when it began, and the deployments it has not finished with. */
  private current: { startedAt: number; progress: Progress } | undefined;
  private lastPass: { startedAt: number; finishedAt: number } | undefined;
  /** Auto-launches under way, by server and uid; each ends with a check of what it launched. */
  private readonly launches = new Map<string, Promise<void>>();
  private nextAt: number | undefined;
  private cancelTimer: (() => void) | undefined;
  private readonly stopController = new AbortController();

  constructor(
    readonly deployments: readonly Deployment[],
    private readonly options: HealthMonitorOptions,
  ) {
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? silentLogger;
    this.intervalMs = Math.max(MIN_INTERVAL_MS, options.intervalMs);
    this.slots = new Slots(options.concurrency ?? DEFAULT_CONCURRENCY);
    for (const deployment of deployments) this.health.set(deployment.id, { status: "unknown" });
  }

  /**
   * Starts the first pass in the background and, with background checks on, schedules the next ones after it.
   * Resolves at once: a proxy must take traffic whatever its upstreams do, and deployments not yet checked are
   * in the rotation until a check says otherwise.
   */
  start(): Promise<void> {
    if (!this.started) {
      this.started = true;
      void this.runPass().then(() => this.schedule());
    }
    return Promise.resolve();
  }

  /** Stops the background checks and abandons the checks and launches in progress, keeping the last findings. */
  stop(): void {
    this.cancelTimer?.();
    this.nextAt = undefined;
    this.stopController.abort(new Error("health checks stopped"));
  }

  inRotation(id: string): boolean {
    return !this.options.background || this.health.get(id)?.status !== "unhealthy";
  }

  nextCheckAt(): number | undefined {
    return this.nextAt;
  }

  get(id: string): DeploymentHealth | undefined {
    return this.health.get(id);
  }

  summary(): HealthSummary {
    const summary: HealthSummary = { checked: 0, pending: 0, healthy: 0, unhealthy: 0 };
    for (const { status, checkedAt } of this.health.values()) {
      if (checkedAt === undefined) summary.pending++;
      else summary.checked++;
      if (status === "healthy") summary.healthy++;
      else if (status === "unhealthy") summary.unhealthy++;
    }
    return summary;
  }

  /**
   * The findings to report: from memory while the last pass is younger than the interval (unless `fresh`),
   * else from a new pass, or from the one in flight, which every caller shares. Waits for that pass at most
   * the check timeout; what it has not finished with by then is in `unfinished`, saying why.
   */
  async report(options: { fresh?: boolean } = {}): Promise<HealthView> {
    const last = this.lastPass;
    if (this.running === undefined && options.fresh !== true && last !== undefined && this.clock.now() - last.finishedAt < this.intervalMs) {
      return { passStartedAt: last.startedAt, unfinished: new Map() };
    }
    const pass = this.runPass();
    const current = this.current;
    let cancel = (): void => undefined;
    const due = new Promise<void>((resolve) => {
      cancel = this.clock.setTimer(this.options.checkTimeoutMs, resolve);
    });
    try {
      await Promise.race([pass, due]);
    } finally {
      cancel();
    }
    return { passStartedAt: current?.startedAt, unfinished: current === undefined ? new Map() : this.unfinishedOf(current.progress) };
  }

  /** Resolves once no pass and no auto-launch (with the check that follows it) is running. */
  async settled(): Promise<void> {
    while (this.running !== undefined || this.launches.size > 0) {
      await Promise.all([this.running, ...this.launches.values()]);
    }
  }

  /**
   * Throws a 400 when the group's models cannot do this edit, as their servers report them; passes when any
   * deployment can, or when nothing is known (the upstream then decides).
   */
  checkEdit(group: string, withMask: boolean, wildcardMatch?: string): void {
    const refusal = this.refusalOf(group, wildcardMatch, (capabilities) => editRefusal(capabilities, withMask));
    if (refusal === undefined) return;
    throw new BadRequestError(
      `Model '${group}' cannot edit images: ${refusal}. Use a model that can, or generate with /v1/images/generations.`,
      { param: "model", code: "model_cannot_edit" },
    );
  }

  /** As `checkEdit`, for a transcription or translation (`audio2text`) or speech (`text2audio`). */
  checkAudio(group: string, use: AudioUse): void {
    const refusal = this.refusalOf(group, undefined, (capabilities) => audioRefusal(capabilities, use));
    if (refusal === undefined) return;
    const [cannot, instead] =
      use === "audio2text"
        ? ["turn speech into text", "a speech model belongs on /v1/audio/speech"]
        : ["speak text", "a transcription model belongs on /v1/audio/transcriptions"];
    throw new BadRequestError(`Model '${group}' cannot ${cannot}: ${refusal}. Use a model that can (${instead}).`, {
      param: "model",
      code: use === "audio2text" ? "model_cannot_transcribe" : "model_cannot_speak",
    });
  }

  /**
   * Throws a 400 when the group's models cannot take this chat or text completion (a chat to a generate-only
   * model, images to one without vision, tools to one without tools), as their servers report them; passes
   * when any deployment can, or when nothing is known. `wildcardMatch` names the model behind a wildcard.
   */
  checkLlm(group: string, wildcardMatch: string | undefined, needs: LlmNeeds, shownModel: string): void {
    const refusal = this.refusalOf(group, wildcardMatch, (capabilities) => llmRefusal(capabilities, needs));
    if (refusal === undefined) return;
    const what = needs.operation === "chat" ? "this chat request" : "this completion request";
    throw new BadRequestError(`Model '${shownModel}' cannot take ${what}: ${refusal}. Use a model that has the ability.`, {
      param: needs.operation === "chat" && (needs.vision || needs.tools) ? "messages" : "model",
      code: "unsupported_by_model",
    });
  }

  /** The first refusal when every deployment of the group refuses; undefined when one can, or nothing is known. */
  private refusalOf(group: string, wildcardMatch: string | undefined, refuse: (capabilities: ModelCapabilities) => string | undefined): string | undefined {
    const refusals: string[] = [];
    for (const deployment of this.deployments) {
      if (deployment.group !== group) continue;
      const capabilities = this.capabilitiesOf(deployment, wildcardMatch);
      const refusal = capabilities === undefined ? undefined : refuse(capabilities);
      if (refusal === undefined) return undefined;
      refusals.push(refusal);
    }
    return refusals[0];
  }

  /** What the server reports of the deployment's model (a wildcard's: of the model it is asked for); undefined when unknown. */
  private capabilitiesOf(deployment: Deployment, wildcardMatch: string | undefined): ModelCapabilities | undefined {
    const health = this.health.get(deployment.id);
    if (health?.models === undefined) return { modelType: health?.modelType, abilities: health?.abilities };
    if (wildcardMatch === undefined) return undefined;
    const uid = this.options.servers?.uidOf(deployment.model.replace("*", wildcardMatch));
    const model = health.models.find((m) => m.id === uid);
    return model === undefined ? undefined : { modelType: model.model_type, abilities: model.model_ability };
  }

  /**
   * The models the wildcard deployments reach, as their servers last listed them: the name a client asks for
   * each (the `model_name` with its `*` filled in), with what the server reports of it.
   */
  wildcardModels(): { id: string; model: ServedModel }[] {
    const found = new Map<string, ServedModel>();
    for (const deployment of this.deployments) {
      const models = this.health.get(deployment.id)?.models;
      if (models === undefined) continue;
      const star = deployment.model.indexOf("*");
      const prefix = deployment.model.slice(0, star);
      const suffix = deployment.model.slice(star + 1);
      // `xinference/*`: the model string for a uid is the provider's prefix and the uid.
      const provider = deployment.model.slice(0, deployment.model.indexOf("/") + 1);
      for (const model of models) {
        const full = provider + model.id;
        if (full.length <= prefix.length + suffix.length || !full.startsWith(prefix) || !full.endsWith(suffix)) continue;
        const id = deployment.group.replace("*", full.slice(prefix.length, full.length - suffix.length));
        if (!found.has(id)) found.set(id, model);
      }
    }
    return [...found].map(([id, model]) => ({ id, model }));
  }

  /** One pass over every deployment; a call while a pass runs joins it. Never rejects. */
  runPass(): Promise<void> {
    this.running ??= this.pass()
      .catch((error: unknown) => this.warnFailed("health pass", error))
      .finally(() => {
        this.running = undefined;
        this.current = undefined;
      });
    return this.running;
  }

  /** A bug rather than an upstream's failure (those are findings): logged, never left unhandled. */
  private warnFailed(what: string, error: unknown): void {
    this.logger.warn({ err: { message: messageOf(error) } }, `${what} failed: ${messageOf(error)}`);
  }

  private schedule(): void {
    if (!this.options.background || this.stopController.signal.aborted) return;
    this.nextAt = this.clock.now() + this.intervalMs;
    this.cancelTimer = this.clock.setTimer(this.intervalMs, () => void this.runPass().then(() => this.schedule()), { unref: true });
  }

  private async pass(): Promise<void> {
    // A stopped monitor would only find every check aborted: keep the last findings instead.
    if (this.stopController.signal.aborted) return;
    const startedAt = this.clock.now();
    const progress: Progress = new Map(this.deployments.map((d) => [d.id, "waiting"]));
    this.current = { startedAt, progress };
    const servers = new Map<string, ServerGroup>();
    const others: Deployment[] = [];
    for (const deployment of this.deployments) {
      const uid = this.options.servers?.uidOf(deployment.model);
      const wildcard = uid === undefined && this.options.servers?.servesWildcard?.(deployment.model) === true;
      if (uid === undefined && !wildcard) {
        others.push(deployment);
        continue;
      }
      const target = { apiBase: deployment.apiBase, apiKey: deployment.apiKey };
      const group = servers.get(serverKey(target)) ?? { target, members: [], wildcards: [] };
      if (uid === undefined) group.wildcards.push(deployment);
      else group.members.push({ deployment, uid });
      servers.set(serverKey(target), group);
    }
    await Promise.all([
      ...[...servers.values()].map((group) => this.checkServer(group, progress, true)),
      ...others.map((deployment) => this.probe(deployment, {}, false, progress)),
    ]);
    this.lastPass = { startedAt, finishedAt: this.clock.now() };
  }

  /** What to report of the deployments a pass has not finished with. */
  private unfinishedOf(progress: Progress): Map<string, string> {
    const now = this.clock.now();
    const timeout = this.options.checkTimeoutMs;
    const unfinished = new Map<string, string>();
    for (const [id, state] of progress) {
      let reason: string;
      if (state === "waiting") reason = `not checked yet: waiting for one of the ${this.slots.limit} health checks that run at a time`;
      // Past the timeout the call is as good as cut: say what its cut will record.
      else if (now - state.since >= timeout) reason = state.failure(`no answer within ${seconds(timeout)} s`);
      else reason = `still being checked: no answer after ${seconds(now - state.since)} s, and /health waits ${seconds(timeout)} s at most`;
      unfinished.set(id, reason);
    }
    return unfinished;
  }

  private serverName(target: ServerTarget): string {
    const kind = this.options.servers?.name ?? "model";
    return target.apiBase === undefined ? `the default ${kind} server` : `${kind} server ${target.apiBase}`;
  }

  /** Lists the server's models, then probes each member the server lists; `mayLaunch` starts auto-launches. */
  private async checkServer(group: ServerGroup, progress: Progress | undefined, mayLaunch: boolean): Promise<void> {
    const servers = this.options.servers;
    if (servers === undefined) return;
    const where = this.serverName(group.target);
    const deployments = [...group.members.map((m) => m.deployment), ...group.wildcards];
    let listed: Map<string, ServedModel>;
    try {
      const models = await this.bounded(progress, deployments, (why) => `${where} did not list its models: ${why}`, (signal) =>
        servers.listModels(group.target, signal),
      );
      listed = new Map(models.map((model) => [model.id, model]));
    } catch (error) {
      for (const deployment of deployments) {
        this.record(progress, deployment, { status: "unhealthy", reason: `${where} did not list its models: ${failureOf(error)}` });
      }
      return;
    }
    // What a wildcard reaches is known from the list; its models are checked by the requests for them.
    for (const deployment of group.wildcards) this.record(progress, deployment, { status: "healthy", models: [...listed.values()] });
    await Promise.all(
      group.members.map(async ({ deployment, uid }) => {
        const model = listed.get(uid);
        if (model === undefined) {
          const { reason, lasting, launching } = this.missing(servers, group, uid, mayLaunch);
          // Without an auto-launch, nothing will bring the uid: the client is told so, not to retry.
          const launch: LaunchState = launching ? "launching" : "not_launched";
          this.record(progress, deployment, { status: "unhealthy", reason, launch, ...(lasting && { cause: "model-missing" as const }) });
          return;
        }
        progress?.set(deployment.id, "waiting");
        await this.probe(deployment, { modelType: model.model_type, abilities: model.model_ability, launch: "launched" }, true, progress);
      }),
    );
  }

  /**
   * Why a uid the server does not list is missing, and whether it stays so (no auto-launch is configured);
   * starts its auto-launch when it has one and none is under way.
   */
  private missing(servers: ModelServerClient, group: ServerGroup, uid: string, mayLaunch: boolean): { reason: string; lasting: boolean; launching?: boolean } {
    const missing = `model uid '${uid}' is not launched on ${this.serverName(group.target)}`;
    const members = group.members.filter((m) => m.uid === uid);
    const request = members.map((m) => autoLaunchOf(m.deployment, uid)).find((r) => r !== undefined);
    if (request === undefined) return { reason: `${missing}; launch it there, or set model_info.auto_launch`, lasting: true };
    if (typeof request === "string") return { reason: `${missing}; auto-launch failed: ${request}`, lasting: false };
    if (!mayLaunch) return { reason: `${missing}; it was auto-launched, but the server does not list it`, lasting: false };
    const key = `${serverKey(group.target)}\n${uid}`;
    if (!this.launches.has(key)) this.launch(servers, { target: group.target, members, wildcards: [] }, request, key);
    return { reason: `${missing}; auto-launching it (${request.model_name}), which can take minutes`, lasting: false, launching: true };
  }

  /**
   * Launches a uid apart from any pass (a launch can take minutes, a pass must answer in seconds), then checks
   * the deployments it serves; a failed launch is recorded on them. The next pass that finds the uid missing
   * tries again.
   */
  private launch(servers: ModelServerClient, group: ServerGroup, request: LaunchRequest, key: string): void {
    const { target } = group;
    const uid = request.model_uid;
    const where = this.serverName(target);
    const started = this.clock.now();
    this.logger.info(
      { uid, model_name: request.model_name, model_type: request.model_type, server: target.apiBase },
      `auto-launching '${uid}' (${request.model_name}) on ${where}`,
    );
    const launched = this.withTimeout(this.options.launchTimeoutMs ?? DEFAULT_LAUNCH_TIMEOUT_MS, (signal) =>
      servers.launchModel(target, request, signal),
    ).then(
      async () => {
        this.logger.info({ uid, server: target.apiBase, ms: this.clock.now() - started }, `auto-launched '${uid}' on ${where}`);
        // Reads the list again, for what the launched model reports (its abilities), and probes it.
        await this.checkServer(group, undefined, false);
      },
      (error: unknown) => {
        if (this.stopController.signal.aborted) return;
        this.logger.warn({ uid, server: target.apiBase, err: { message: messageOf(error) } }, `auto-launch of '${uid}' on ${where} failed`);
        for (const { deployment } of group.members) {
          this.set(deployment, { status: "unhealthy", reason: `model uid '${uid}' is not launched on ${where}; auto-launch failed: ${messageOf(error)}`, launch: "not_launched" });
        }
      },
    );
    this.launches.set(
      key,
      launched.catch((error: unknown) => this.warnFailed("health check after an auto-launch", error)).finally(() => this.launches.delete(key)),
    );
  }

  /** Runs the probe, if any; `listed` says the model server already vouched for the deployment. */
  private async probe(
    deployment: Deployment,
    served: Pick<DeploymentHealth, "modelType" | "abilities" | "launch">,
    listed: boolean,
    progress: Progress | undefined,
  ): Promise<void> {
    const probe = this.options.probe;
    if (probe === undefined) {
      this.record(progress, deployment, { status: listed ? "healthy" : "unknown", ...served });
      return;
    }
    try {
      await this.bounded(progress, [deployment], (why) => `health probe failed: ${why}`, (signal) => probe(deployment, signal));
      this.record(progress, deployment, { status: "healthy", ...served });
    } catch (error) {
      this.record(progress, deployment, { status: "unhealthy", reason: `health probe failed: ${failureOf(error)}`, ...served });
    }
  }

  /** Runs one check call in a free slot, cut after the check timeout, noting it in the pass's progress meanwhile. */
  private bounded<V>(
    progress: Progress | undefined,
    deployments: readonly Deployment[],
    failure: (why: string) => string,
    operation: (signal: AbortSignal) => Promise<V>,
  ): Promise<V> {
    return this.slots.run(() => {
      const running = { since: this.clock.now(), failure };
      for (const deployment of deployments) progress?.set(deployment.id, running);
      return this.withTimeout(this.options.checkTimeoutMs, operation);
    });
  }

  /** Runs `operation` with a signal aborted after `ms` or when the monitor stops. */
  private async withTimeout<V>(ms: number, operation: (signal: AbortSignal) => Promise<V>): Promise<V> {
    const controller = new AbortController();
    const stop = this.stopController.signal;
    const onStop = (): void => controller.abort(stop.reason);
    stop.addEventListener("abort", onStop, { once: true });
    if (stop.aborted) onStop();
    const cancel = this.clock.setTimer(ms, () => controller.abort(new Error(`no answer within ${seconds(ms)} s`)));
    try {
      return await untilAborted(operation(controller.signal), controller.signal);
    } finally {
      cancel();
      stop.removeEventListener("abort", onStop);
    }
  }

  private record(progress: Progress | undefined, deployment: Deployment, next: Omit<DeploymentHealth, "checkedAt">): void {
    progress?.delete(deployment.id);
    this.set(deployment, next);
  }

  private set(deployment: Deployment, next: Omit<DeploymentHealth, "checkedAt">): void {
    // Checks cut short by stop() found nothing about the deployment.
    if (this.stopController.signal.aborted) return;
    const previous = this.health.get(deployment.id);
    this.health.set(deployment.id, { ...next, checkedAt: this.clock.now() });
    const fields = { deployment: deployment.id, group: deployment.group };
    if (next.status === "unhealthy" && (previous?.status !== "unhealthy" || previous.reason !== next.reason)) {
      this.logger.warn({ ...fields, reason: next.reason }, `deployment ${deployment.id} of '${deployment.group}' is unhealthy: ${next.reason}`);
    } else if (next.status === "healthy" && previous?.status === "unhealthy") {
      this.logger.info(fields, `deployment ${deployment.id} of '${deployment.group}' is healthy again`);
    }
  }
}
