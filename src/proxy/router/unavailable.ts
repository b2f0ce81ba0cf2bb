/**
 * The answer when no deployment of a group or of its fallbacks can take a request: why each one is out, and
 * whether waiting helps. When every one is at its own `rpm`/`tpm` limit, that is a 429 with Retry-After when
 * the first frees capacity: the client is sending more than the deployments are configured to take. Time
 * also cures a cooldown after failures, an upstream's rate limit, a model loading: that is a 503 with
 * Retry-After at the earliest return. A misconfiguration needs a fix — the model is not on the
 * deployments' servers (404), or they cannot be used as configured: credentials refused, a wrong or dead
 * api_base (502) — so it is answered with the reason and the fix, and no Retry-After: a client that retried
 * soon would be told the same.
 */
import { type APIError, BadGatewayError, NotFoundError, ServiceUnavailableError } from "../../errors.js";
import { describeRefusal, LIMIT_CODES, LimitExceededError, retryAdvice } from "../limits/errors.js";
import type { Quota, Refusal } from "../limits/index.js";
import type { Deployment } from "./deployment.js";
import type { HealthFinding } from "./router.js";
import type { Cooldown, LastingCause } from "./state.js";

/** A deployment out of the rotation: cooling down, or (without a cooldown) taken out by health checks, or at its limit. */
export interface Absent {
  deployment: Deployment;
  cooldown: Cooldown | undefined;
  /** What the health checks last found about it. */
  finding: HealthFinding | undefined;
  /** Its `rpm`/`tpm` limit refused this request: it is in the rotation, but full. */
  limit?: Refusal | undefined;
}

export interface NothingAvailable {
  /** The group asked for, then its fallbacks. */
  groups: readonly string[];
  absent: readonly Absent[];
  now: number;
  /** When health checks may next bring deployments back; undefined when no pass is scheduled. */
  nextCheckAt: number | undefined;
  /** The wait suggested when nothing says when a deployment returns: one cooldown period. */
  defaultWaitMs: number;
  /** The request's last failure, if it made any attempt. */
  cause: Error | undefined;
  /** What is left of the group's limits, for the headers of a 429. */
  quota: Quota;
}

/** How a client should read one deployment's absence: back by itself at some time, or only once fixed. */
type Outlook = { text: string } & (
  | { kind: "returns"; returnsAt: number | undefined; limited: boolean }
  | { kind: "needs-fix"; status: 404 | 502 }
);

/** Shown for each of the first few deployments out; the rest are counted. */
const SHOWN = 3;

/** What fixes a lasting cause, added to reasons in the router's own words (the health checks' reasons carry their own). */
const FIXES: Record<LastingCause, string> = {
  "model-missing": "Launch the model on that server, or correct the deployment's litellm_params.model.",
  credentials: "Check the deployment's litellm_params.api_key.",
  endpoint: "Check the deployment's litellm_params.api_base.",
  unreachable: "Check the deployment's litellm_params.api_base, and that its server is running.",
};

function sentence(text: string): string {
  const line = text.replace(/\s+/g, " ").trim();
  return /[.!?]$/.test(line) ? line : `${line}.`;
}

function outlookOf({ deployment, cooldown, finding, limit }: Absent, now: number, nextCheckAt: number | undefined): Outlook {
  const id = deployment.id;
  if (limit !== undefined && cooldown === undefined) {
    const returnsAt = limit.retryAfterMs === undefined ? undefined : now + limit.retryAfterMs;
    return { kind: "returns", returnsAt, limited: true, text: sentence(describeRefusal(limit)) };
  }
  const found = finding?.status === "unhealthy" ? finding.reason : undefined;
  if (cooldown === undefined) {
    if (found !== undefined && finding?.cause !== undefined) {
      return { kind: "needs-fix", status: statusFor(finding.cause), text: `${id} needs a fix: ${sentence(found)}` };
    }
    const text = found === undefined ? `${id} is failing health checks.` : `${id} is failing health checks: ${sentence(found)}`;
    return { kind: "returns", returnsAt: nextCheckAt, limited: false, text };
  }
  const cause = cooldown.cause;
  // A refused connection may be a server restarting; the health checks not reaching it either say it is down.
  if (cause !== undefined && (cause !== "unreachable" || found !== undefined)) {
    const why = found === undefined ? `${sentence(cooldown.reason)} ${FIXES[cause]}` : sentence(found);
    return { kind: "needs-fix", status: statusFor(cause), text: `${id} needs a fix: ${why}` };
  }
  const seconds = Math.ceil((cooldown.until - now) / 1000);
  return {
    kind: "returns",
    returnsAt: cooldown.until,
    limited: false,
    text: `${id} is cooling down for ${seconds} s after ${sentence(cooldown.reason)}`,
  };
}

function statusFor(cause: LastingCause): 404 | 502 {
  return cause === "model-missing" ? 404 : 502;
}

function listed(outlooks: readonly Outlook[]): string {
  const shown = outlooks.slice(0, SHOWN).map((outlook) => outlook.text);
  const more = outlooks.length - shown.length;
  return [...shown, ...(more > 0 ? [`${more} more ${more === 1 ? "is" : "are"} out too.`] : [])].join(" ");
}

/** The error for a request that no deployment of its group or fallbacks can take now. */
export function nothingAvailable({ groups, absent, now, nextCheckAt, defaultWaitMs, cause, quota }: NothingAvailable): APIError {
  const outlooks = absent.map((each) => outlookOf(each, now, nextCheckAt));
  const [group, ...fallbacks] = groups;
  if (outlooks.length > 0 && outlooks.every((outlook) => outlook.kind === "returns" && outlook.limited)) {
    return allAtTheirLimits(groups, outlooks, now, quota);
  }
  const returning = outlooks.flatMap((outlook) => (outlook.kind === "returns" ? [outlook.returnsAt] : []));
  const fixes = outlooks.flatMap((outlook) => (outlook.kind === "needs-fix" ? [outlook.status] : []));
  if (returning.length > 0 || fixes.length === 0) {
    const returnsAt = returning.reduce<number | undefined>((earliest, at) => (at === undefined ? earliest : Math.min(earliest ?? at, at)), undefined);
    const retryAfterMs = Math.max(1, (returnsAt ?? now + defaultWaitMs) - now);
    const which = `model group '${group}'${fallbacks.length > 0 ? ` or its fallbacks ('${fallbacks.join("', '")}')` : ""}`;
    return new ServiceUnavailableError(
      `No deployment of ${which} is available. Retry in ${Math.ceil(retryAfterMs / 1000)} s.${outlooks.length > 0 ? ` ${listed(outlooks)}` : ""}`,
      { code: "no_deployment_available", retryAfterMs, cause },
    );
  }
  const which = `Model group '${group}'${fallbacks.length > 0 ? ` and its fallbacks ('${fallbacks.join("', '")}')` : ""}`;
  if (fixes.every((status) => status === 404)) {
    return new NotFoundError(`${which} cannot answer: its model is not on its deployments' servers. ${listed(outlooks)}`, {
      code: "model_not_found",
      param: "model",
      cause,
    });
  }
  return new BadGatewayError(`${which} cannot answer: none of its deployments can be used as configured. ${listed(outlooks)}`, {
    code: "no_deployment_usable",
    cause,
  });
}

/** Every deployment is at its `rpm`/`tpm` limit: a 429, with Retry-After when the first of them frees capacity. */
function allAtTheirLimits(groups: readonly string[], outlooks: readonly Outlook[], now: number, quota: Quota): LimitExceededError {
  const [group, ...fallbacks] = groups;
  const returns = outlooks.flatMap((outlook) => (outlook.kind === "returns" && outlook.returnsAt !== undefined ? [outlook.returnsAt] : []));
  const retryAfterMs = returns.length === 0 ? undefined : Math.max(1, Math.min(...returns) - now);
  const which = `model group '${group}'${fallbacks.length > 0 ? ` and its fallbacks ('${fallbacks.join("', '")}')` : ""}`;
  const when = retryAfterMs === undefined ? "Raise the deployments' rpm/tpm." : retryAdvice(retryAfterMs);
  return new LimitExceededError(`Rate limit exceeded: every deployment of ${which} is at its limit. ${listed(outlooks)} ${when}`, {
    code: retryAfterMs === undefined ? LIMIT_CODES.allowsNothing : LIMIT_CODES.exceeded,
    retryAfterMs,
    quota,
  });
}
