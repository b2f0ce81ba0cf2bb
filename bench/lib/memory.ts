// Peak RSS of each target's server process while a piece of the benchmark runs.
import { RssSampler, toMB } from "./rss.js";
import type { Target, TargetId } from "./types.js";

export interface RssFigures {
  /** MB at the window's start. */
  startMB: number;
  peakMB: number;
}

/** Runs `work` while sampling each target's server process (direct: the emulator). */
export async function withRss<T>(
  targets: Target[],
  work: () => Promise<T>,
): Promise<{ value: T; rss: Partial<Record<TargetId, RssFigures>> }> {
  const samplers = targets.map((t) => [t.id, new RssSampler(t.child.pid)] as const);
  const rss: Partial<Record<TargetId, RssFigures>> = {};
  try {
    const value = await work();
    return { value, rss };
  } finally {
    for (const [id, sampler] of samplers) {
      const window = sampler.stop();
      rss[id] = { startMB: toMB(window.startBytes), peakMB: toMB(window.peakBytes) };
    }
  }
}
