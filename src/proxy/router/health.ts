/**
 * Health of the deployments, checked at start and, with `background_health_checks`, every
 * `health_check_interval` seconds. A pass reads each model server's model list once (not once per
 * deployment): a configured uid that is not launched makes its deployment unhealthy, with a reason naming the
 * uid and the server, or is launched when `model_info.auto_launch` says how. The abilities the server reports
 * are kept, so an impossible image edit is refused before any GPU work. An optional probe (a real call) runs on
 * each deployment that passed the listing.
 *
 * With background checks on, unhealthy deployments leave the rotation and come back when a pass finds them
 * healthy. With them off there is only the start pass, which must not remove a deployment for good: its
 * findings are reported and logged, and the router's cooldowns deal with failures as they happen.
 */
import { BadRequestError } from "../../errors.js";
import { editRefusal } from "./abilities.js";
import { type Clock, systemClock, untilAborted } from "./clock.js";
import type { Deployment } from "./deployment.js";
import { type RouterLogger, silentLogger } from "./logger.js";
import type { LaunchRequest, ModelServerClient, ServedModel, ServerTarget } from "./model-servers.js";
import type { Rotation } from "./router.js";

export type HealthStatus = "unknown" | "healthy" | "unhealthy";

export interface DeploymentHealth {
  status: HealthStatus;
  /** Why it is unhealthy (never a secret). */
  reason?: string;
  /** Epoch ms of the pass that set this status. */
  checkedAt?: number;
  /** What the model server reports of the model, when it lists it. */
  modelType?: string;
  abilities?: readonly string[];
}

/** A real call to one deployment; rejects when the deployment cannot serve. */
export type HealthProbe = (deployment: Deployment, signal: AbortSignal) => Promise<void>;

export interface HealthMonitorOptions {
  /** `general_settings.background_health_checks`. */
  background: boolean;
  /** `general_settings.health_check_interval`, in ms. */
  intervalMs: number;
  servers?: ModelServerClient;
  probe?: HealthProbe;
  clock?: Clock;
  logger?: RouterLogger;
  /** Longest wait for one model list or probe. */
  checkTimeoutMs?: number;
  /** Longest wait for an auto-launch (weights may have to be downloaded). */
  launchTimeoutMs?: number;
}

const DEFAULT_CHECK_TIMEOUT_MS = 30_000;
const DEFAULT_LAUNCH_TIMEOUT_MS = 15 * 60_000;
/** An interval of 0 (or a typo) must not make the checks run back to back. */
const MIN_INTERVAL_MS = 1_000;

interface ServerGroup {
  target: ServerTarget;
  members: { deployment: Deployment; uid: string }[];
}

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

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export class HealthMonitor implements Rotation {
  private readonly health = new Map<string, DeploymentHealth>();
  private readonly clock: Clock;
  private readonly logger: RouterLogger;
  private readonly intervalMs: number;
  private running: Promise<void> | undefined;
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
    for (const deployment of deployments) this.health.set(deployment.id, { status: "unknown" });
  }

  /** Runs the first pass, then, with background checks on, schedules the next ones. */
  async start(): Promise<void> {
    await this.runPass();
    this.schedule();
  }

  /** Stops the background checks and abandons a pass in progress. */
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

  /**
   * Throws a 400 when the group's models cannot do this edit, as their servers report them; passes when any
   * deployment can, or when nothing is known (the upstream then decides).
   */
  checkEdit(group: string, withMask: boolean): void {
    const members = this.deployments.filter((d) => d.group === group);
    const refusals: string[] = [];
    for (const deployment of members) {
      const health = this.health.get(deployment.id);
      const refusal = editRefusal({ modelType: health?.modelType, abilities: health?.abilities }, withMask);
      if (refusal === undefined) return;
      refusals.push(refusal);
    }
    if (refusals.length === 0) return;
    throw new BadRequestError(
      `Model '${group}' cannot edit images: ${refusals[0]}. Use a model that can, or generate with /v1/images/generations.`,
      { param: "model", code: "model_cannot_edit" },
    );
  }

  /** One pass over every deployment; a call while a pass runs joins it. */
  runPass(): Promise<void> {
    this.running ??= this.pass().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private schedule(): void {
    if (!this.options.background || this.stopController.signal.aborted) return;
    this.nextAt = this.clock.now() + this.intervalMs;
    this.cancelTimer = this.clock.setTimer(
      this.intervalMs,
      () => {
        this.runPass().then(
          () => this.schedule(),
          () => this.schedule(),
        );
      },
      { unref: true },
    );
  }

  private async pass(): Promise<void> {
    // A stopped monitor would only find every check aborted: keep the last findings instead.
    if (this.stopController.signal.aborted) return;
    const servers = new Map<string, ServerGroup>();
    const others: Deployment[] = [];
    for (const deployment of this.deployments) {
      const uid = this.options.servers?.uidOf(deployment.model);
      if (uid === undefined) {
        others.push(deployment);
        continue;
      }
      const key = `${deployment.apiBase ?? ""}\n${deployment.apiKey ?? ""}`;
      const group = servers.get(key) ?? { target: { apiBase: deployment.apiBase, apiKey: deployment.apiKey }, members: [] };
      group.members.push({ deployment, uid });
      servers.set(key, group);
    }
    await Promise.all([
      ...[...servers.values()].map((group) => this.checkServer(group)),
      ...others.map((deployment) => this.probe(deployment, {}, false)),
    ]);
  }

  private serverName(target: ServerTarget): string {
    const kind = this.options.servers?.name ?? "model";
    return target.apiBase === undefined ? `the default ${kind} server` : `${kind} server ${target.apiBase}`;
  }

  private async checkServer(group: ServerGroup): Promise<void> {
    const servers = this.options.servers;
    if (servers === undefined) return;
    const where = this.serverName(group.target);
    let listed: Map<string, ServedModel>;
    try {
      listed = await this.list(servers, group.target);
    } catch (error) {
      for (const { deployment } of group.members) {
        this.set(deployment, { status: "unhealthy", reason: `${where} did not list its models: ${messageOf(error)}` });
      }
      return;
    }
    const launchFailures = new Map<string, string>();
    const missing = group.members.filter(({ uid }) => !listed.has(uid));
    if (missing.length > 0 && (await this.launchMissing(servers, group.target, missing, launchFailures)) > 0) {
      // Read the list again for what the launched models report (their abilities).
      listed = await this.list(servers, group.target).catch(() => listed);
    }
    await Promise.all(
      group.members.map(async ({ deployment, uid }) => {
        const model = listed.get(uid);
        if (model === undefined) {
          const launch = launchFailures.get(uid);
          this.set(deployment, {
            status: "unhealthy",
            reason:
              `model uid '${uid}' is not launched on ${where}` +
              (launch === undefined ? "; launch it there, or set model_info.auto_launch" : `; auto-launch failed: ${launch}`),
          });
          return;
        }
        await this.probe(deployment, { modelType: model.model_type, abilities: model.model_ability }, true);
      }),
    );
  }

  /** Launches each missing uid that has an `auto_launch`, once per uid; records why a launch failed. Returns how many launched. */
  private async launchMissing(
    servers: ModelServerClient,
    target: ServerTarget,
    missing: readonly { deployment: Deployment; uid: string }[],
    failures: Map<string, string>,
  ): Promise<number> {
    const requests = new Map<string, LaunchRequest | string>();
    for (const { deployment, uid } of missing) {
      const request = autoLaunchOf(deployment, uid);
      if (request !== undefined && !requests.has(uid)) requests.set(uid, request);
    }
    const where = this.serverName(target);
    let launched = 0;
    await Promise.all(
      [...requests].map(async ([uid, request]) => {
        if (typeof request === "string") {
          failures.set(uid, request);
          return;
        }
        const started = this.clock.now();
        this.logger.info(
          { uid, model_name: request.model_name, model_type: request.model_type, server: target.apiBase },
          `auto-launching '${uid}' (${request.model_name}) on ${where}`,
        );
        try {
          await this.withTimeout(this.options.launchTimeoutMs ?? DEFAULT_LAUNCH_TIMEOUT_MS, (signal) =>
            servers.launchModel(target, request, signal),
          );
          this.logger.info(
            { uid, server: target.apiBase, ms: this.clock.now() - started },
            `auto-launched '${uid}' on ${where}`,
          );
          launched++;
        } catch (error) {
          failures.set(uid, messageOf(error));
          this.logger.warn({ uid, server: target.apiBase, err: { message: messageOf(error) } }, `auto-launch of '${uid}' on ${where} failed`);
        }
      }),
    );
    return launched;
  }

  private async list(servers: ModelServerClient, target: ServerTarget): Promise<Map<string, ServedModel>> {
    const models = await this.withTimeout(this.options.checkTimeoutMs ?? DEFAULT_CHECK_TIMEOUT_MS, (signal) =>
      servers.listModels(target, signal),
    );
    return new Map(models.map((model) => [model.id, model]));
  }

  /** Runs the probe, if any; `listed` says the model server already vouched for the deployment. */
  private async probe(deployment: Deployment, served: Pick<DeploymentHealth, "modelType" | "abilities">, listed: boolean): Promise<void> {
    const probe = this.options.probe;
    try {
      if (probe !== undefined) {
        await this.withTimeout(this.options.checkTimeoutMs ?? DEFAULT_CHECK_TIMEOUT_MS, (signal) => probe(deployment, signal));
      }
      this.set(deployment, { status: probe === undefined && !listed ? "unknown" : "healthy", ...served });
    } catch (error) {
      this.set(deployment, { status: "unhealthy", reason: `health probe failed: ${messageOf(error)}`, ...served });
    }
  }

  /** Runs `operation` with a signal aborted after `ms` or when the monitor stops. */
  private async withTimeout<V>(ms: number, operation: (signal: AbortSignal) => Promise<V>): Promise<V> {
    const controller = new AbortController();
    const stop = this.stopController.signal;
    const onStop = (): void => controller.abort(stop.reason);
    stop.addEventListener("abort", onStop, { once: true });
    if (stop.aborted) onStop();
    const cancel = this.clock.setTimer(ms, () => controller.abort(new Error(`no answer within ${ms / 1000} s`)));
    try {
      return await untilAborted(operation(controller.signal), controller.signal);
    } finally {
      cancel();
      stop.removeEventListener("abort", onStop);
    }
  }

  private set(deployment: Deployment, next: Omit<DeploymentHealth, "checkedAt">): void {
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
