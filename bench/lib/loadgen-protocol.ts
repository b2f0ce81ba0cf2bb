// What the orchestrator asks of the load-generator process (bench/lib/loadgen.ts) and what it answers, as JSON
// files: the load generator runs in its own process so that its CPU is not the servers' or the orchestrator's.

export interface HttpRequestSpec {
  /** Free text that comes back in the result, e.g. "xgate round 3". */
  label: string;
  url: string;
  headers: Record<string, string>;
  /** The POST body, inline… */
  body?: string;
  /** …or read once from this file (large multipart bodies). */
  bodyFile?: string;
}

/** autocannon for a fixed time at a fixed concurrency (keep-alive, no pipelining). */
export interface AutocannonJob extends HttpRequestSpec {
  kind: "autocannon";
  connections: number;
  durationS: number;
  timeoutS: number;
  /** Return every 2xx response's own time (for pooling percentiles across rounds). */
  keepLatencies: boolean;
}

/** One request after another on one keep-alive connection, each timed until its last body byte. */
export interface SequentialJob extends HttpRequestSpec {
  kind: "sequential";
  count: number;
  timeoutS: number;
}

export type Job = AutocannonJob | SequentialJob;

export interface Plan {
  jobs: Job[];
}

export interface LatencySummary {
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

export interface JobResult {
  label: string;
  kind: Job["kind"];
  /** 2xx responses. */
  ok: number;
  non2xx: number;
  /** Connection errors and timeouts. */
  errors: number;
  statusCounts: Record<string, number>;
  elapsedS: number;
  /** 2xx responses per second of `elapsedS`. */
  rps: number;
  /** Response bytes (headers and body) of the 2xx responses. */
  bytes: number;
  /** Milliseconds, 2xx only. */
  latency: LatencySummary;
  latenciesMs?: number[];
}

export interface PlanResult {
  results: JobResult[];
}
