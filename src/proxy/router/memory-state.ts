/** The router's state in this process: used when no Redis is configured. */
import {
  type CallOutcome,
  type Cooldown,
  type DeploymentStats,
  FAILURE_WINDOW_MS,
  LATENCY_SAMPLES,
  meanLatency,
  type RouterState,
} from "./state.js";

export class MemoryRouterState implements RouterState {
  private readonly cooldowns = new Map<string, Cooldown>();
  private readonly failures = new Map<string, number[]>();
  private readonly inFlight = new Map<string, number>();
  private readonly latencies = new Map<string, { at: number; ms: number }[]>();

  async ready(): Promise<void> {}

  async stats(ids: readonly string[], now: number): Promise<Map<string, DeploymentStats>> {
    const stats = new Map<string, DeploymentStats>();
    for (const id of ids) {
      const cooldown = this.cooldowns.get(id);
      stats.set(id, {
        cooldown: cooldown !== undefined && cooldown.until > now ? cooldown : undefined,
        inFlight: this.inFlight.get(id) ?? 0,
        latencyMs: meanLatency(this.latencies.get(id) ?? [], now),
      });
    }
    return stats;
  }

  async begin(id: string): Promise<void> {
    this.inFlight.set(id, (this.inFlight.get(id) ?? 0) + 1);
  }

  async end(id: string, outcome: CallOutcome, now: number): Promise<void> {
    // Counts that reach 0 are dropped, so that the map holds only deployments with calls running.
    const inFlight = (this.inFlight.get(id) ?? 0) - 1;
    if (inFlight > 0) this.inFlight.set(id, inFlight);
    else this.inFlight.delete(id);
    if (outcome.latencyMs !== undefined) {
      const samples = this.latencies.get(id) ?? [];
      samples.push({ at: now, ms: outcome.latencyMs });
      if (samples.length > LATENCY_SAMPLES) samples.shift();
      this.latencies.set(id, samples);
    }
  }

  async recordFailure(id: string, now: number): Promise<number> {
    const recent = (this.failures.get(id) ?? []).filter((at) => now - at < FAILURE_WINDOW_MS);
    recent.push(now);
    this.failures.set(id, recent);
    return recent.length;
  }

  async cool(id: string, cooldown: Cooldown): Promise<void> {
    this.cooldowns.set(id, cooldown);
    this.failures.delete(id);
  }

  async forget(ids: readonly string[]): Promise<void> {
    for (const id of ids) {
      this.cooldowns.delete(id);
      this.failures.delete(id);
      this.latencies.delete(id);
    }
  }

  async close(): Promise<void> {}
}
