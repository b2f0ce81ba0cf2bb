/**
 * What a failed call says about its deployment, and so whether to retry, cool the deployment down, or give up.
 */
import { APIConnectionError, APIError, APITimeoutError } from "../../errors.js";
import type { LastingCause } from "./state.js";

export type FailureKind =
  /** The request itself was refused (a 4xx other than those below): retrying or falling back cannot help. */
  | "request"
  /** 401/403/404 from the upstream: the deployment is misconfigured (key, permissions, uid). */
  | "deployment"
  /**
   * 404 for the model a client named through a wildcard: this server does not have it. Says nothing about
   * the deployment's health; another server of the group may have the model.
   */
  | "unknown-model"
  /** 429 from the upstream. */
  | "rate-limit"
  /** The upstream refused the connection: nothing listens there. */
  | "refused"
  /** The attempt ran out of time, or the upstream answered 408. */
  | "timeout"
  /** A broken connection, 409 (cancelled upstream) or a 5xx: worth another try. */
  | "transient";

export interface Failure {
  kind: FailureKind;
  error: Error;
  /** The upstream's HTTP status, when it answered. */
  status: number | undefined;
  /** How long the upstream asked us to wait (its Retry-After). */
  retryAfterMs: number | undefined;
}

/** Error codes of Node's sockets and undici that mean the connection failed or broke. */
const CONNECTION_CODES = new Set([
  "ECONNRESET",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENETDOWN",
  "UND_ERR_SOCKET",
  "UND_ERR_CLOSED",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
]);

/** The `code`s of an error, its causes and, for an AggregateError (several addresses tried), its members. */
function codesOf(error: unknown, depth = 0): string[] {
  if (depth > 5 || error === null || typeof error !== "object") return [];
  const codes: string[] = [];
  const { code, cause, errors } = error as { code?: unknown; cause?: unknown; errors?: unknown };
  if (typeof code === "string") codes.push(code);
  codes.push(...codesOf(cause, depth + 1));
  if (Array.isArray(errors)) for (const member of errors) codes.push(...codesOf(member, depth + 1));
  return codes;
}

function isConnectionRefused(error: unknown): boolean {
  return codesOf(error).some((code) => code === "ECONNREFUSED" || code === "connection_refused");
}

function kindForStatus(status: number): FailureKind {
  if (status === 401 || status === 403 || status === 404) return "deployment";
  if (status === 429) return "rate-limit";
  if (status === 408) return "timeout";
  if (status === 409 || status >= 500) return "transient";
  return "request";
}

/**
 * The failure a call's error describes, or undefined when the error is not about the upstream at all (the
 * gateway's own error, or a bug), which the router passes on untouched and counts against no deployment. `wildcard`: the call went to a model a client named through a
 * wildcard deployment, so a 404 for the model is about the client's choice, not about the deployment.
 */
export function classify(error: unknown, wildcard = false): Failure | undefined {
  if (!(error instanceof Error)) return undefined;
  // The gateway's own errors (a client's bad input, a limit, a bug) say nothing about the deployment.
  if (error instanceof APIError && error.origin === "gateway") return undefined;
  const base = { error, retryAfterMs: error instanceof APIError ? error.retryAfterMs : undefined };
  if (error instanceof APIError && error.status !== undefined) {
    // A 404 with another code (a wrong api_base, say) is the deployment's fault, wildcard or not.
    const unknownModel = wildcard && error.status === 404 && error.code === "model_not_found";
    return { ...base, kind: unknownModel ? "unknown-model" : kindForStatus(error.status), status: error.status };
  }
  if (isConnectionRefused(error)) return { ...base, kind: "refused", status: undefined };
  if (error instanceof APITimeoutError) return { ...base, kind: "timeout", status: undefined };
  const codes = codesOf(error);
  if (error instanceof APIConnectionError || codes.some((code) => CONNECTION_CODES.has(code))) {
    const timedOut = codes.some((code) => code === "ETIMEDOUT" || code.endsWith("_TIMEOUT"));
    return { ...base, kind: timedOut ? "timeout" : "transient", status: undefined };
  }
  return undefined;
}

/** Whether another attempt (on another deployment when there is one) may succeed. */
export function isRetryable(failure: Failure): boolean {
  return failure.kind !== "request";
}

/**
 * What about a deployment a failure shows waiting will not cure; undefined when it may pass. A 404 says the
 * deployment's model is not on its server, unless its code says the route is missing (a wrong api_base).
 */
export function lastingCauseOf(failure: Failure): LastingCause | undefined {
  if (failure.kind === "refused") return "unreachable";
  if (failure.kind !== "deployment") return undefined;
  if (failure.status !== 404) return "credentials";
  return codeOf(failure.error) === "model_not_found" ? "model-missing" : "endpoint";
}

/** 5xx statuses that are about the upstream's availability, whatever the request was. */
const AVAILABILITY_STATUSES: ReadonlySet<number> = new Set([502, 503, 504]);

/**
 * Whether two failures are the same answer to the same request: an error the upstream answered with (a 5xx
 * other than those about its availability), with the same status and code, and a message that differs at
 * most in numbers (an object's address, an id). Two deployments answering a request alike point at the
 * request, not at either deployment: another deployment would say the same.
 */
export function failedAlike(a: Failure, b: Failure): boolean {
  return (
    isErrorAnswer(a) &&
    isErrorAnswer(b) &&
    a.status === b.status &&
    codeOf(a.error) === codeOf(b.error) &&
    messageClass(a.error.message) === messageClass(b.error.message)
  );
}

/** A 5xx the upstream answered that is not about its availability: what it made of the request. */
function isErrorAnswer(failure: Failure): boolean {
  return failure.kind === "transient" && failure.status !== undefined && failure.status >= 500 && !AVAILABILITY_STATUSES.has(failure.status);
}

function codeOf(error: Error): string | undefined {
  return error instanceof APIError ? error.code : undefined;
}

/** A message with its numbers masked: hexadecimal addresses (`0x7f3a…`), and words of hex digits or decimals that have a digit. */
function messageClass(message: string): string {
  return message.replace(/0x[0-9a-f]+/gi, "#").replace(/\b[0-9a-f]*\d[0-9a-f]*\b/gi, "#");
}

/** One line on why a deployment failed, for cooldown reasons and `/health`; upstream messages carry no secrets. */
export function describeFailure(failure: Failure): string {
  const what = failure.status === undefined ? failure.kind.replace("-", " ") : String(failure.status);
  const message = failure.error.message.length > 200 ? `${failure.error.message.slice(0, 200)}…` : failure.error.message;
  return `${what}: ${message}`;
}
