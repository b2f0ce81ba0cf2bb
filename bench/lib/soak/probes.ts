// What a long run may leak in xgate's process, read from /proc and the disk: resident memory, open file
// descriptors (and how many are sockets), and upload spool files left in its private temporary folder.
import { readdirSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import { rssBytes } from "../rss.js";

export interface ProcessSample {
  /** ms since the soak's start. */
  atMs: number;
  rssBytes: number;
  fds: number;
  sockets: number;
  spoolFiles: number;
  /** Client requests finished so far. */
  requests: number;
}

export function fdCounts(pid: number): { fds: number; sockets: number } {
  let entries: string[];
  try {
    entries = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return { fds: 0, sockets: 0 };
  }
  let sockets = 0;
  for (const fd of entries) {
    try {
      if (readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith("socket:")) sockets++;
    } catch {
      // Closed while we looked.
    }
  }
  return { fds: entries.length, sockets };
}

function spools(tmpDir: string): string[] {
  try {
    return readdirSync(tmpDir).filter((name) => name.startsWith("xgate-upload-"));
  } catch {
    return [];
  }
}

/** xgate spools each upload into a folder `xgate-upload-*` of os.tmpdir(), removed once the request is done. */
export function spoolFiles(tmpDir: string): number {
  return spools(tmpDir).length;
}

/** The files inside those folders (an empty folder left behind and a spooled image left behind differ). */
export function filesInSpools(tmpDir: string): number {
  let files = 0;
  for (const dir of spools(tmpDir)) {
    try {
      files += readdirSync(join(tmpDir, dir)).length;
    } catch {
      // Removed while we looked.
    }
  }
  return files;
}

export function sampleProcess(pid: number, tmpDir: string, atMs: number, requests: number): ProcessSample {
  return { atMs, rssBytes: rssBytes(pid), ...fdCounts(pid), spoolFiles: spoolFiles(tmpDir), requests };
}
