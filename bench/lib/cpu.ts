// CPU time a server process (and any workers it forks) spends over a measured window, from /proc/<pid>/stat
// (utime + stime, in clock ticks), and how busy the whole machine was, from /proc/stat. Divided by the 2xx
// responses of the window, it is the CPU per request: on a machine where the servers and the load generator
// share the cores, that is what sets a gateway's throughput.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { processTree } from "./rss.js";

function clockTicksPerSecond(): number {
  try {
    const ticks = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim());
    return Number.isFinite(ticks) && ticks > 0 ? ticks : 100;
  } catch {
    return 100;
  }
}

const TICKS_PER_S = clockTicksPerSecond();

/** utime + stime of one process (all its threads), in ticks; 0 when it is gone. */
function processTicks(pid: number): number {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "latin1");
  } catch {
    return 0;
  }
  // The command name (field 2) is in parentheses and may hold spaces: count fields after the last ")".
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  // fields[0] is field 3 (state); utime and stime are fields 14 and 15.
  return Number(fields[11]) + Number(fields[12]);
}

function treeTicks(pid: number): number {
  let total = 0;
  for (const p of processTree(pid)) total += processTicks(p);
  return total;
}

/** Busy and total ticks of all cores since boot (busy: everything but idle and iowait). */
function machineTicks(): { busy: number; total: number } {
  const line = readFileSync("/proc/stat", "latin1").split("\n", 1)[0] ?? "";
  const values = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const total = values.reduce((sum, v) => sum + v, 0);
  const idle = (values[3] ?? 0) + (values[4] ?? 0);
  return { busy: total - idle, total };
}

export interface CpuWindow {
  /** CPU seconds the process tree used in the window. */
  cpuS: number;
  /** Wall-clock seconds of the window. */
  wallS: number;
  /** Cores the whole machine kept busy on average over the window (all processes, the load generator too). */
  machineBusyCores: number;
}

/** Starts measuring at construction; `stop()` returns the window's figures. */
export class CpuMeter {
  private readonly ticks: number;
  private readonly machine: { busy: number; total: number };
  private readonly started = process.hrtime.bigint();

  constructor(private readonly pid: number) {
    this.ticks = treeTicks(pid);
    this.machine = machineTicks();
  }

  stop(): CpuWindow {
    const ticks = treeTicks(this.pid);
    const machine = machineTicks();
    const wallS = Number(process.hrtime.bigint() - this.started) / 1e9;
    const busyTicks = machine.busy - this.machine.busy;
    return {
      cpuS: (ticks - this.ticks) / TICKS_PER_S,
      wallS,
      // /proc/stat counts ticks of every core: busy ticks per second of wall time is cores in use.
      machineBusyCores: wallS > 0 ? busyTicks / TICKS_PER_S / wallS : Number.NaN,
    };
  }
}

/** Microseconds of CPU per request, NaN without requests. */
export function cpuMicrosPerRequest(cpuS: number, requests: number): number {
  return requests > 0 ? (cpuS / requests) * 1e6 : Number.NaN;
}
