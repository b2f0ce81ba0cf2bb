// Injected failures, per route or for every route ("*"). A fault with `rate` hits requests drawn from a seeded
// PRNG, so a test run is repeatable; `times` limits it to the next N hits.
import { mulberry32 } from "./random.js";
import type { EmulatorRoute, Fault } from "./types.js";

interface ActiveFault {
  fault: Fault;
  remaining: number;
}

export class FaultTable {
  private readonly faults = new Map<EmulatorRoute | "*", ActiveFault>();
  private readonly random: () => number;

  constructor(seed: number) {
    this.random = mulberry32(seed);
  }

  set(route: EmulatorRoute | "*", fault: Fault | null): void {
    if (fault === null) {
      this.faults.delete(route);
      return;
    }
    if (fault.kind === "status" && (!Number.isInteger(fault.status) || fault.status < 100 || fault.status > 599)) {
      throw new Error(`setFault: status must be an HTTP status code, got ${fault.status}`);
    }
    this.faults.set(route, { fault, remaining: fault.times ?? Number.POSITIVE_INFINITY });
  }

  /** The fault this request gets, if any; a route's own fault wins over "*". */
  take(route: EmulatorRoute): Fault | undefined {
    const key = this.faults.has(route) ? route : "*";
    const active = this.faults.get(key);
    if (active === undefined) return undefined;
    const rate = active.fault.rate ?? 1;
    if (rate < 1 && this.random() >= rate) return undefined;
    active.remaining--;
    if (active.remaining <= 0) this.faults.delete(key);
    return active.fault;
  }
}
