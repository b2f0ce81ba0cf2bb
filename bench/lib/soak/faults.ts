// The soak's upstream faults: one route at a time gets one kind of fault for a short window, then a quiet gap,
// rotating so that every kind meets every route. Each window is remembered, so that a 5xx xgate answers can be
// told apart from one an injected fault explains.
import type { Emulator, EmulatorRoute, Fault } from "../../../test/support/emulator/index.js";

export type FaultKind = "status-500" | "reset" | "stall" | "loading-503";
export const FAULT_KINDS: readonly FaultKind[] = ["status-500", "reset", "stall", "loading-503"];

export interface FaultWindow {
  route: EmulatorRoute;
  /** The model uid of the route's deployment in the soak's config: taken out by a cooldown, it fails other routes too. */
  uid: string;
  kind: FaultKind;
  /** ms since the soak's start. */
  startMs: number;
  endMs: number;
}

export interface FaultTiming {
  windowMs: number;
  gapMs: number;
  /**
   * How long after a window a route may still answer because of it: a stalled attempt runs into xgate's
   * per-attempt timeout, and a deployment taken out stays out for cooldown_time (or the Retry-After it heard).
   */
  aftermathMs: number;
}

/** Half the requests of the window get the fault: xgate sees failures mixed with answers, as in real life. */
const RATE = 0.5;

function faultOf(kind: FaultKind, uid: string): Fault {
  switch (kind) {
    case "status-500":
      return { kind: "status", status: 500, rate: RATE, body: "Internal Server Error", contentType: "text/plain; charset=utf-8" };
    case "reset":
      return { kind: "reset", rate: RATE };
    case "stall":
      return { kind: "stall", rate: RATE };
    case "loading-503":
      // Xinference's answer for a model still loading, with a Retry-After short enough for a soak.
      return {
        kind: "status",
        status: 503,
        rate: RATE,
        body: { detail: `Model is loading, please retry later: ${uid}` },
        headers: { "Retry-After": "2" },
      };
  }
}

/** Runs the rotation until `stop()`; every window is cleared by the time `stop()` resolves. */
export class FaultSchedule {
  readonly windows: FaultWindow[] = [];
  private timer: NodeJS.Timeout | undefined;
  private active: FaultWindow | undefined;
  private phase = 0;
  private stopped = false;

  constructor(
    private readonly emulator: Emulator,
    private readonly routes: { route: EmulatorRoute; uid: string }[],
    private readonly timing: FaultTiming,
    private readonly t0: number,
  ) {}

  start(): void {
    this.timer = setTimeout(() => this.open(), this.timing.gapMs);
  }

  private open(): void {
    if (this.stopped) return;
    const n = this.phase++;
    const kind = FAULT_KINDS[n % FAULT_KINDS.length] as FaultKind;
    // Shift the route by one every full round of kinds, so that each kind meets each route in turn.
    const target = this.routes[(n + Math.floor(n / FAULT_KINDS.length)) % this.routes.length];
    if (target === undefined) return;
    this.emulator.setFault(target.route, faultOf(kind, target.uid));
    const startMs = Date.now() - this.t0;
    this.active = { route: target.route, uid: target.uid, kind, startMs, endMs: startMs + this.timing.windowMs };
    this.timer = setTimeout(() => this.close(), this.timing.windowMs);
  }

  private close(): void {
    if (this.active === undefined) return;
    this.emulator.setFault(this.active.route, null);
    this.active.endMs = Date.now() - this.t0;
    this.windows.push(this.active);
    this.active = undefined;
    if (!this.stopped) this.timer = setTimeout(() => this.open(), this.timing.gapMs);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.close();
  }

  /**
   * Whether a request on `route` to the deployment of `uid`, over [startMs, endMs], may have met a fault window or
   * its aftermath: one on its own route, or one on another route of the same deployment (image generations and
   * edits share one), whose failures can put that deployment in cooldown for both.
   */
  exposed(route: EmulatorRoute, uid: string, startMs: number, endMs: number): boolean {
    return this.windows.some(
      (w) => (w.route === route || w.uid === uid) && startMs <= w.endMs + this.timing.aftermathMs && endMs >= w.startMs,
    );
  }

  /** Whether an emulator answer at `atMs` on `route` fell inside a window (where a fault can have made it). */
  inWindow(route: EmulatorRoute, atMs: number): boolean {
    const active = this.active;
    if (active !== undefined && active.route === route && atMs >= active.startMs) return true;
    return this.windows.some((w) => w.route === route && atMs >= w.startMs && atMs <= w.endMs);
  }
}
