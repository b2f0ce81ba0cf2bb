// wrk (Debian's package) as the load generator for throughput: far less CPU per request than autocannon, so at
// concurrency 64 the servers, not the generator, set the pace. Its POST body comes from a generated Lua script.
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { HttpRequestSpec } from "./loadgen-protocol.js";
import { spawnChild } from "./processes.js";

/** wrk's version line, or undefined when it is not installed. */
export function wrkVersion(): string | undefined {
  try {
    // wrk -v prints its banner and usage, then exits 1.
    execFileSync("wrk", ["-v"], { stdio: ["ignore", "pipe", "pipe"] });
  } catch (error) {
    const out = (error as { stdout?: Buffer; code?: string }).stdout?.toString() ?? "";
    if ((error as { code?: string }).code === "ENOENT") return undefined;
    return /^wrk (\S+)/.exec(out)?.[1] ?? "unknown version";
  }
  return "unknown version";
}

/** A Lua long string that cannot be closed by the body itself. */
function luaString(text: string): string {
  let level = 1;
  while (text.includes(`]${"=".repeat(level)}]`)) level++;
  const eq = "=".repeat(level);
  return `[${eq}[${text}]${eq}]`;
}

/** A quoted Lua string (header names and values: short, one line). */
function luaQuoted(text: string): string {
  return `"${text.replace(/[\\"]/g, (c) => `\\${c}`).replace(/\r/g, "\\r").replace(/\n/g, "\\n")}"`;
}

function luaScript(spec: HttpRequestSpec): string {
  const lines = ['wrk.method = "POST"', `wrk.body = ${luaString(spec.body ?? "")}`];
  for (const [name, value] of Object.entries(spec.headers)) lines.push(`wrk.headers[${luaQuoted(name)}] = ${luaQuoted(value)}`);
  return `${lines.join("\n")}\n`;
}

export interface WrkResult {
  label: string;
  requests: number;
  non2xx: number;
  socketErrors: number;
  elapsedS: number;
  /** Non-error responses per second. */
  rps: number;
  latency: { p50: number; p90: number; p99: number };
  raw: string;
}

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

function durationMs(text: string): number {
  const match = /^([\d.]+)(us|ms|s|m|h)$/.exec(text);
  if (!match) return Number.NaN;
  return Number(match[1]) * (UNIT_MS[match[2] as string] as number);
}

export function parseWrk(label: string, raw: string): WrkResult {
  const percentile = (p: string): number => {
    const match = new RegExp(`^\\s+${p}%\\s+(\\S+)`, "m").exec(raw);
    return match ? durationMs(match[1] as string) : Number.NaN;
  };
  const total = /(\d+) requests in ([\d.]+)(us|ms|s|m),/.exec(raw);
  if (!total) throw new Error(`cannot read wrk's output:\n${raw}`);
  const requests = Number(total[1]);
  const elapsedS = durationMs(`${total[2]}${total[3]}`) / 1000;
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(raw)?.[1] ?? 0);
  const errors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(raw);
  const socketErrors = errors ? errors.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0;
  return {
    label,
    requests,
    non2xx,
    socketErrors,
    elapsedS,
    rps: (requests - non2xx) / elapsedS,
    latency: { p50: percentile("50"), p90: percentile("90"), p99: percentile("99") },
    raw,
  };
}

export async function runWrk(
  where: { root: string; scratchDir: string; logDir: string },
  spec: HttpRequestSpec,
  options: { connections: number; durationS: number; threads: number },
): Promise<WrkResult> {
  const name = `wrk-${spec.label.replace(/[^\w.-]+/g, "_")}`;
  const script = join(where.scratchDir, `${name}.lua`);
  writeFileSync(script, luaScript(spec));
  const child = spawnChild(
    name,
    "wrk",
    [
      `-t${options.threads}`,
      `-c${options.connections}`,
      `-d${options.durationS}s`,
      "--timeout",
      "10s",
      "--latency",
      "-s",
      script,
      spec.url,
    ],
    { cwd: where.root, logDir: where.logDir },
  );
  const code = await child.exited;
  const raw = readFileSync(child.logPath, "utf8");
  if (code !== 0) throw new Error(`wrk failed (${code}):\n${raw}`);
  return parseWrk(spec.label, raw);
}
