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
  /** Replace each `[<id>]` in the body with an id of its own per request (autocannon's `idReplacement`). */
  idReplacement?: boolean;
  /** Requests a second from all connections together (autocannon's `overallRate`); unbounded without. */
  overallRate?: number;
}

/**
 * One request after another on one keep-alive connection, each timed until its first and its last body byte.
 * With `decodeBase64Embeddings`, the answer is then parsed and its base64 embeddings decoded as the openai
 * client does (`Buffer.from(b64, "base64")` and a Float32Array over it), and the time counts the decoding.
 */
export interface SequentialJob extends HttpRequestSpec {
  kind: "sequential";
  count: number;
  timeoutS: number;
  decodeBase64Embeddings?: boolean;
}

/**
 * Server-sent-event streams (chat completions with `stream: true`): `connections` streams at a time, each
 * connection starting its next stream when one ends, until `durationS` has passed (or, with `once`, one
 * stream per connection, all opened together). Every event's arrival is timed: the time to the first event
 * and the gaps between one event and the next.
 */
export interface StreamsJob extends HttpRequestSpec {
  kind: "streams";
  connections: number;
  durationS: number;
  once?: boolean;
  timeoutS: number;
}

export type Job = AutocannonJob | SequentialJob | StreamsJob;

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
  /** Sequential jobs: per 2xx response, ms from the request's start to its first body byte. */
  ttfbMs?: number[];
  /** Sequential jobs that decode: per 2xx response, ms spent parsing the JSON (not counted in `latenciesMs`)… */
  parseMs?: number[];
  /** …and ms spent decoding its base64 embeddings (counted in `latenciesMs`; 0 for an answer of float arrays). */
  decodeMs?: number[];
  /** Stream jobs: per complete stream, ms from the request's start to its first event… */
  ttftMs?: number[];
  /** …the gaps between consecutive events of a stream, all streams pooled, in ms… */
  gapMs?: LatencySummary;
  /** …the events received (SSE data lines, `[DONE]` included), and the most streams open at one time. */
  events?: number;
  maxOpen?: number;
}

export interface PlanResult {
  results: JobResult[];
}
