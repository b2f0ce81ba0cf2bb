// Shared helpers for the router's tests: a clock that moves only when told, a seeded PRNG, configs, and calls
// scripted per deployment.
import { APIConnectionError, InternalServerError, fromUpstream } from "../../../src/errors.js";
import type { Clock } from "../../../src/proxy/router/clock.js";
import { type ModelEntryInput, type RouterConfigInput, routerSettingsFrom } from "../../../src/proxy/router/config.js";
import { redisConnectionFrom } from "../../../src/proxy/router/create-state.js";
import { type Limiter, MemoryLimiter } from "../../../src/proxy/limits/index.js";
import { buildDeployments, type Deployment } from "../../../src/proxy/router/deployment.js";
import type { RouterInput } from "../../../src/proxy/router/index.js";
import { MemoryRouterState } from "../../../src/proxy/router/memory-state.js";
import { type CallContext, type Rotation, Router, type RouterOptions } from "../../../src/proxy/router/router.js";
import type { RouterState } from "../../../src/proxy/router/state.js";
import type { Candidate, RoutingStrategy } from "../../../src/proxy/router/strategies/index.js";
import { mulberry32 } from "../../support/emulator/random.js";

export { mulberry32 };
export { limitUsage } from "../../support/limits.js";

interface Timer {
  at: number;
  fn: () => void;
  id: number;
}

/** Time stands still until `advance`, which fires the timers that fall due, in order. */
export class FakeClock implements Clock {
  private timers: Timer[] = [];
  private nextId = 0;

  constructor(private current = 1_700_000_000_000) {}

  now(): number {
    return this.current;
  }

  setTimer(ms: number, fn: () => void): () => void {
    const timer = { at: this.current + Math.max(0, ms), fn, id: this.nextId++ };
    this.timers.push(timer);
    return () => {
      this.timers = this.timers.filter((t) => t !== timer);
    };
  }

  advance(ms: number): void {
    const target = this.current + ms;
    for (;;) {
      const due = this.timers.filter((t) => t.at <= target).sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (due === undefined) break;
      this.timers = this.timers.filter((t) => t !== due);
      this.current = Math.max(this.current, due.at);
      due.fn();
    }
    this.current = target;
  }

  get pendingTimers(): number {
    return this.timers.length;
  }
}

/** A model_list entry of group `model_name` with the deployment id `id`. */
export function entry(model_name: string, id: string, params: Partial<ModelEntryInput["litellm_params"]> = {}): ModelEntryInput {
  return { model_name, litellm_params: { model: `xinference/${model_name}`, ...params }, model_info: { id } };
}

export interface TestRouter {
  router: Router;
  clock: FakeClock;
  state: RouterState;
  /** Where the deployments' rpm/tpm are counted, on the same clock. */
  limiter: Limiter;
  /** Every wait the router asked for, in ms; waits pass at once, moving the clock. */
  slept: number[];
}

export function testRouter(
  config: RouterConfigInput,
  options: { seed?: number; state?: RouterState; rotation?: Rotation; clock?: FakeClock; limiter?: Limiter } & Partial<
    Pick<RouterOptions, "strategy" | "logger" | "sleep">
  > = {},
): TestRouter {
  const settings = routerSettingsFrom(config);
  const clock = options.clock ?? new FakeClock();
  const state = options.state ?? new MemoryRouterState();
  const limiter = options.limiter ?? new MemoryLimiter({ clock });
  const slept: number[] = [];
  const router = new Router({
    deployments: buildDeployments(config.model_list, settings),
    settings,
    state,
    clock,
    limiter,
    random: mulberry32(options.seed ?? 42),
    sleep:
      options.sleep ??
      (async (ms, signal) => {
        signal?.throwIfAborted();
        slept.push(ms);
        clock.advance(ms);
      }),
    ...(options.rotation && { rotation: options.rotation }),
    ...(options.strategy && { strategy: options.strategy }),
    ...(options.logger && { logger: options.logger }),
  });
  return { router, clock, state, limiter, slept };
}

/** What createRouter takes, from a config as a test writes it. */
export function routerInput(config: RouterConfigInput): RouterInput {
  const settings = routerSettingsFrom(config);
  return { settings, deployments: buildDeployments(config.model_list, settings), redis: redisConnectionFrom(config.router_settings) };
}

export type Behaviour = (deployment: Deployment, context: CallContext) => Promise<string>;

/** A call whose answer depends on the deployment; it logs which deployments were called, in order. */
export function scripted(behaviours: Record<string, Behaviour | Behaviour[]>): { call: Behaviour; called: string[]; contexts: CallContext[] } {
  const called: string[] = [];
  const contexts: CallContext[] = [];
  const counts = new Map<string, number>();
  const call: Behaviour = (deployment, context) => {
    called.push(deployment.id);
    contexts.push(context);
    const n = counts.get(deployment.id) ?? 0;
    counts.set(deployment.id, n + 1);
    const behaviour = behaviours[deployment.id];
    const chosen = Array.isArray(behaviour) ? behaviour[Math.min(n, behaviour.length - 1)] : behaviour;
    return chosen ? chosen(deployment, context) : Promise.resolve(`answer from ${deployment.id}`);
  };
  return { call, called, contexts };
}

export const ok: Behaviour = async (d) => `answer from ${d.id}`;
export const fail = (error: Error): Behaviour => async () => {
  throw error;
};
/** An upstream 500 with these words. */
export const serverErrorSaying = (message: string): Behaviour => fail(fromUpstream(new InternalServerError(message)));
export const serverError = serverErrorSaying("engine exploded");
/** Never answers by itself: ends only when its signal aborts. */
export const stall: Behaviour = (_d, { signal }) => new Promise((_resolve, reject) => signal.addEventListener("abort", () => reject(signal.reason)));

export function refused(): APIConnectionError {
  const cause = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:9"), { code: "ECONNREFUSED" });
  return fromUpstream(new APIConnectionError("Connection error.", { cause }));
}

export function config(entries: RouterConfigInput["model_list"], router_settings: RouterConfigInput["router_settings"] = {}, extra: Partial<RouterConfigInput> = {}): RouterConfigInput {
  return { model_list: entries, router_settings, ...extra };
}

export async function cooldownOf(state: RouterState, id: string, now: number): Promise<string | undefined> {
  return (await state.stats([id], now)).get(id)?.cooldown?.reason;
}

/** Picks the first candidate, in config order: makes the order of attempts a test's to choose. */
export const inConfigOrder: RoutingStrategy = { pick: (candidates) => candidates[0] as Candidate };

/** A connection the upstream broke, as the transport reports it. */
export function reset(): APIConnectionError {
  const cause = Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" });
  return fromUpstream(new APIConnectionError("The connection to Xinference broke before the whole response arrived (ECONNRESET).", { cause }));
}
