/**
 * A deployment's `rpm`/`tpm` (`litellm_params`) as limits: the router admits each attempt against its
 * deployment's scope, skips a deployment at its limit without counting anything against its health, and
 * tells the client the model group's quota — the sum of its deployments' — since that is what it can use.
 */
import { type Limiter, type Quota, type Scope, scopeKey, type Ticket, type Usage } from "../limits/index.js";
import type { Deployment } from "./deployment.js";

/**
 * The limits' scope of a deployment; undefined without `rpm` or `tpm`. A wildcard's variants share the
 * configured deployment's: its limits are its server's, whatever model a client names through it.
 */
export function deploymentScope(deployment: Deployment): Scope | undefined {
  if (deployment.rpm === undefined && deployment.tpm === undefined) return undefined;
  const id = deployment.variantOf ?? deployment.id;
  return { kind: "deployment", id, name: id, limits: { rpm: deployment.rpm, tpm: deployment.tpm } };
}

/** What the limiter counted for these deployments' scopes, by `scopeKey` (empty when none has limits). */
export async function deploymentUsage(limiter: Limiter, deployments: readonly Deployment[]): Promise<Map<string, Usage>> {
  const scopes = deployments.flatMap((deployment) => deploymentScope(deployment) ?? []);
  return scopes.length === 0 ? new Map() : limiter.usage(scopes);
}

/** The usage of one deployment's limits, from a `deploymentUsage` read. */
export function usageOf(deployment: Deployment, usage: ReadonlyMap<string, Usage>): Usage | undefined {
  const scope = deploymentScope(deployment);
  return scope === undefined ? undefined : usage.get(scopeKey(scope));
}

/** The ticket of a deployment without limits: nothing to count or give back. */
export const UNLIMITED_TICKET: Ticket = { quota: {}, usage: new Map(), done: () => undefined, refund: () => undefined };

function sum(limits: readonly (number | undefined)[], used: readonly number[]): { limit: number; remaining: number } | undefined {
  let limit = 0;
  let remaining = 0;
  for (const [i, each] of limits.entries()) {
    if (each === undefined) return undefined;
    limit += Math.floor(each);
    remaining += Math.max(0, Math.floor(each) - (used[i] ?? 0));
  }
  return { limit, remaining };
}

/**
 * The model group's quota: each kind of limit summed over the group's deployments — a kind only when every
 * deployment has it (one without it is unlimited, and so is the group).
 */
export function groupQuota(members: readonly Deployment[], usage: ReadonlyMap<string, Usage>): Quota {
  if (members.length === 0) return {};
  const used = members.map((member) => usageOf(member, usage));
  return {
    requests: sum(
      members.map((member) => member.rpm),
      used.map((each) => each?.requests ?? 0),
    ),
    tokens: sum(
      members.map((member) => member.tpm),
      used.map((each) => each?.tokens ?? 0),
    ),
  };
}
