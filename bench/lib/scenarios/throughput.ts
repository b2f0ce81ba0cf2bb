// One fixed-concurrency throughput run against one target (S2, S6, S9), flat out or at a fixed rate (S9's
// rounds): wrk, or autocannon in the load-generator process, for a fixed time; the server's CPU over the run
// from /proc, and how busy the machine was.
import { CpuMeter } from "../cpu.js";
import { jsonRequest, runPlan } from "../load.js";
import type { AutocannonJob } from "../loadgen-protocol.js";
import type { BenchContext, Target } from "../types.js";
import { runWrk } from "../wrk.js";

export interface ThroughputRun {
  ok: number;
  failed: number;
  elapsedS: number;
  p50: number;
  p99: number;
  /** CPU seconds of the target's server process tree over the run (direct: the emulator). */
  cpuS: number;
  /** CPU seconds of the upstream (the emulator) over the run, when it is not the target itself. */
  upstreamCpuS?: number;
  /** Cores the machine kept busy on average, load generator and all. */
  machineBusyCores: number;
}

export async function measureThroughput(
  ctx: BenchContext,
  target: Target,
  path: string,
  body: unknown,
  options: { label: string; connections: number; durationS: number; upstreamPid?: number; overallRate?: number },
): Promise<ThroughputRun> {
  const spec = jsonRequest(target, path, body, options.label);
  const upstream = options.upstreamPid === undefined || options.upstreamPid === target.child.pid ? undefined : options.upstreamPid;
  const load = async (): Promise<Omit<ThroughputRun, "cpuS" | "machineBusyCores" | "upstreamCpuS">> => {
    // wrk keeps its connections busy and cannot hold a fixed rate: a rate is autocannon's.
    if (ctx.s2Tool === "wrk" && options.overallRate === undefined) {
      // One wrk thread keeps up with these servers on this machine and leaves them the other core.
      const r = await runWrk(ctx, spec, { connections: options.connections, durationS: options.durationS, threads: 1 });
      return { ok: r.requests - r.non2xx, failed: r.non2xx + r.socketErrors, elapsedS: r.elapsedS, p50: r.latency.p50, p99: r.latency.p99 };
    }
    const job: AutocannonJob = {
      kind: "autocannon",
      ...spec,
      connections: options.connections,
      durationS: options.durationS,
      timeoutS: 10,
      keepLatencies: false,
      ...(options.overallRate !== undefined && { overallRate: options.overallRate }),
    };
    const [r] = await runPlan(ctx, options.label, [job]);
    if (r === undefined) throw new Error("the load generator returned no result");
    return { ok: r.ok, failed: r.non2xx + r.errors, elapsedS: r.elapsedS, p50: r.latency.p50, p99: r.latency.p99 };
  };
  const server = new CpuMeter(target.child.pid);
  const upstreamMeter = upstream === undefined ? undefined : new CpuMeter(upstream);
  const run = await load();
  const window = server.stop();
  const upstreamWindow = upstreamMeter?.stop();
  return {
    ...run,
    cpuS: window.cpuS,
    ...(upstreamWindow === undefined ? {} : { upstreamCpuS: upstreamWindow.cpuS }),
    machineBusyCores: window.machineBusyCores,
  };
}
