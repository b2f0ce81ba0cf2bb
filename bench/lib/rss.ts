// Resident memory of a server process (and any children it forks), from /proc. Peak = the larger of the sampled
// maximum and the kernel's own high-water mark (VmHWM), which is reset at the start of each window so that it
// covers that window only.
import { readFileSync, readdirSync, writeFileSync } from "node:fs";

const MB = 1024 * 1024;

function statusField(pid: number, field: "VmRSS" | "VmHWM"): number | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, "latin1");
  } catch {
    return undefined;
  }
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(text);
  return match ? Number(match[1]) * 1024 : undefined;
}

/** The process and its descendants (xgate's --num_workers forks workers). */
export function processTree(pid: number): number[] {
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) {
    const parent = tree[i] as number;
    let tasks: string[];
    try {
      tasks = readdirSync(`/proc/${parent}/task`);
    } catch {
      continue;
    }
    for (const task of tasks) {
      try {
        const children = readFileSync(`/proc/${parent}/task/${task}/children`, "latin1").trim();
        if (children !== "") for (const child of children.split(/\s+/)) tree.push(Number(child));
      } catch {
        // The task ended while we looked.
      }
    }
  }
  return tree;
}

export function rssBytes(pid: number): number {
  let total = 0;
  for (const p of processTree(pid)) total += statusField(p, "VmRSS") ?? 0;
  return total;
}

export interface RssWindow {
  /** Bytes, at the window's start. */
  startBytes: number;
  peakBytes: number;
  samples: number;
}

/** Samples a process tree's RSS every `intervalMs` until `stop()`; `stop()` returns the window's figures. */
export class RssSampler {
  private readonly startBytes: number;
  private peak: number;
  private samples = 0;
  private readonly timer: NodeJS.Timeout;
  private readonly resetWorked: boolean;

  constructor(
    private readonly pid: number,
    intervalMs = 10,
  ) {
    // Writing 5 to clear_refs resets VmHWM to the current RSS (Linux ≥ 4.0; needs to own the process).
    let resetWorked = true;
    try {
      writeFileSync(`/proc/${pid}/clear_refs`, "5");
    } catch {
      resetWorked = false;
    }
    this.resetWorked = resetWorked;
    this.startBytes = rssBytes(pid);
    this.peak = this.startBytes;
    this.timer = setInterval(() => this.sample(), intervalMs);
  }

  private sample(): void {
    const bytes = rssBytes(this.pid);
    this.samples++;
    if (bytes > this.peak) this.peak = bytes;
  }

  stop(): RssWindow {
    clearInterval(this.timer);
    this.sample();
    const tree = processTree(this.pid);
    if (this.resetWorked && tree.length === 1) {
      const hwm = statusField(this.pid, "VmHWM");
      if (hwm !== undefined && hwm > this.peak) this.peak = hwm;
    }
    return { startBytes: this.startBytes, peakBytes: this.peak, samples: this.samples };
  }
}

export function toMB(bytes: number): number {
  return Math.round((bytes / MB) * 10) / 10;
}
