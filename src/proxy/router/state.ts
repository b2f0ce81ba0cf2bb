/**
 * What the router remembers about deployments between requests: cooldowns, recent failures, requests in
 * flight and latency samples. In process by default; in Redis when the config names one, so that every
 * instance of the proxy sees the same cooldowns and load. (A deployment's requests and tokens per minute are
 * the limiter's: see proxy/limits, which enforces `rpm`/`tpm` and tells usage-based routing the headroom.)
 *
 * Every time is passed in (`now`, epoch ms) rather than read, so a fake clock drives the state in tests.
 */

/**
 * A cause of failure that waiting does not cure: the deployment's model is not on its server, its credentials
 * are refused, its api_base answers for no such route, or nothing listens there ("unreachable", which may also
 * be a server restarting: it counts as lasting only when health checks found the server unreachable too).
 */
export const LASTING_CAUSES = ["model-missing", "credentials", "endpoint", "unreachable"] as const;
export type LastingCause = (typeof LASTING_CAUSES)[number];

export interface Cooldown {
  /** Epoch ms when the deployment returns to the rotation. */
  until: number;
  /** Why it was cooled down, e.g. "429 from upstream: rate limited" (never a secret). */
  reason: string;
  /** Set when the failure that cooled it is one waiting does not cure: clients are then told the fix, not when to retry. */
  cause?: LastingCause;
}

export interface DeploymentStats {
  /** Present while the deployment is cooling down. */
  cooldown: Cooldown | undefined;
  /** Requests to it now in flight, across every instance sharing the state. */
  inFlight: number;
  /** Mean of its recent latency samples; undefined without recent samples. */
  latencyMs: number | undefined;
}

export interface CallOutcome {
  latencyMs?: number;
}

export interface RouterState {
  /** Resolves once the state can serve (Redis connected); rejects when it cannot now. Routing works either way. */
  ready(): Promise<void>;
  /** The current stats of these deployments, in one read. */
  stats(ids: readonly string[], now: number): Promise<Map<string, DeploymentStats>>;
  /** A request to this deployment starts: one more in flight. */
  begin(id: string): Promise<void>;
  /** That request ended (however it ended): one fewer in flight, plus what it measured. */
  end(id: string, outcome: CallOutcome, now: number): Promise<void>;
  /** Counts a failure; returns the failures within the last FAILURE_WINDOW_MS, this one included. */
  recordFailure(id: string, now: number): Promise<number>;
  /** Takes the deployment out of the rotation until `cooldown.until`, and forgets its counted failures. */
  cool(id: string, cooldown: Cooldown, now: number): Promise<void>;
  /**
   * The router no longer tracks these deployments (wildcard variants it dropped): forget what is kept about
   * them. In-flight counts are not dropped here, since calls may still be running; they go when they reach 0.
   */
  forget(ids: readonly string[]): Promise<void>;
  /** Releases what this instance holds (its in-flight counts, connections). */
  close(): Promise<void>;
}

/** `allowed_fails` counts failures within this window ("within a minute"). */
export const FAILURE_WINDOW_MS = 60_000;
/** Latency-based routing averages at most this many of a deployment's latest samples… */
export const LATENCY_SAMPLES = 10;
/** …no older than this, so a deployment that was slow once is tried again later. */
export const LATENCY_WINDOW_MS = 5 * 60_000;
export function meanLatency(samples: ReadonlyArray<{ at: number; ms: number }>, now: number): number | undefined {
  let sum = 0;
  let n = 0;
  for (const sample of samples) {
    if (now - sample.at > LATENCY_WINDOW_MS) continue;
    sum += sample.ms;
    n++;
  }
  return n === 0 ? undefined : sum / n;
}
