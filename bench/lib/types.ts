// Shared shapes of a benchmark run: targets, scenario results and the targets xgate is judged on (checks).
import type { Child } from "./processes.js";

/** `floor` is a bare Node pass-through (bench/lib/floor-server.ts), run in S1 and S2 only. */
export type TargetId = "direct" | "floor" | "xgate" | "portkey";
export const TARGET_IDS: readonly TargetId[] = ["direct", "floor", "xgate", "portkey"];
export const TARGET_LABELS: Record<TargetId, string> = { direct: "direct", floor: "Node floor", xgate: "xgate", portkey: "Portkey" };
/** The targets that are not the direct call, in the order tables and the chart show them. */
export const GATEWAY_IDS = ["floor", "xgate", "portkey"] as const;

/** The models the scenarios use, named as each target wants them (xgate: config aliases; others: uids). */
export interface TargetModels {
  embedSmall: string;
  embedLarge: string;
  image: string;
}

export interface Target {
  id: TargetId;
  /** e.g. "http://127.0.0.1:PORT/v1" */
  baseUrl: string;
  headers: Record<string, string>;
  models: TargetModels;
  /** The server process serving this target: the emulator for direct, else the gateway. */
  child: Child;
}

export type ScenarioId = "S1" | "S2" | "S3" | "S4" | "S5" | "S6" | "S7" | "S8" | "S9";
export const SCENARIO_IDS: readonly ScenarioId[] = ["S1", "S2", "S3", "S4", "S5", "S6", "S7", "S8", "S9"];

export type Unit = "ms" | "µs" | "req/s" | "MB" | "×";

/** One line of the results table; ratios are to direct where direct has a value. */
export interface MetricRow {
  scenario: ScenarioId;
  key: string;
  label: string;
  unit: Unit;
  better: "lower" | "higher";
  values: Partial<Record<TargetId, number>>;
  /** Drawn in the chart's ratio panel (needs a direct value) or memory panel (MB). */
  chart: boolean;
  /** A difference or a ratio already (e.g. added latency): the table shows no ratio to direct for it. */
  noRatio?: boolean;
  /**
   * The ratio to direct that xgate must reach, for the chart's target line. A target set against another
   * figure (the floor's, 1 worker's) is drawn as the ratio it allows on this run's direct figure.
   */
  ratioTarget?: number;
  /** An absolute limit for xgate (the chart marks it in the memory panel). */
  limit?: number;
}

/** A target for xgate, judged on this run. */
export interface Check {
  scenario: ScenarioId;
  description: string;
  measured: string;
  met: boolean | null;
}

export interface ScenarioResult {
  id: ScenarioId;
  title: string;
  /** How it was measured, in one or two sentences. */
  method: string;
  rows: MetricRow[];
  checks: Check[];
  notes: string[];
  /** Extra figures for the JSON file (per-round values, status counts…). */
  details: Record<string, unknown>;
}

export interface Durations {
  s1Rounds: number;
  s1RoundS: number;
  s2Rounds: number;
  s2DurationS: number;
  s3Rounds: number;
  /** Rounds of S3's 8,192-input variant (after one warm-up). */
  s3LargeRounds: number;
  s4DurationS: number;
  s5DurationS: number;
  s6Rounds: number;
  s6DurationS: number;
  /** Rounds of S7's batches (each round: every hit ratio, every store, and direct). */
  s7Rounds: number;
  /** S7's one-input runs at concurrency 64, per store and kind (hit, miss). */
  s7DurationS: number;
  /** S8's timed rounds of chat streams, per target, and how long each lasts. */
  s8Rounds: number;
  s8DurationS: number;
  /** S9's rounds (each: every variant once, in alternating order) and how long each run lasts. */
  s9Rounds: number;
  s9DurationS: number;
  warmupS: number;
}

/** How to start xgate's CLI: node, these args, then --config/--host/--port (see servers.ts). */
export interface XgateLaunch {
  cliArgs: string[];
  /** Node options before the CLI (e.g. --cpu-prof). */
  nodeArgs: string[];
}

export interface BenchContext {
  root: string;
  scratchDir: string;
  logDir: string;
  targets: Target[];
  emulator: Child;
  /** The emulator's base URL, e.g. "http://127.0.0.1:PORT/v1". */
  emulatorBaseUrl: string;
  durations: Durations;
  /** The load generator for fixed-concurrency throughput (S2, S6). */
  s2Tool: "wrk" | "autocannon";
  /** Undefined when xgate is not among the targets (S6 then has nothing to measure). */
  xgate: XgateLaunch | undefined;
  /**
   * Starts each gateway in `targets` again in a new process, in its place: before a window that reports peak
   * RSS, so that the peak is that window's own and not garbage left by the one before.
   */
  freshGateways(): Promise<void>;
}
