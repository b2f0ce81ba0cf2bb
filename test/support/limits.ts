/** What a limiter counted against a deployment's rpm/tpm, for tests that check what an answer counted. */
import { type Limiter, scopeKey, type Usage } from "../../src/proxy/limits/index.js";
import type { Deployment } from "../../src/proxy/router/deployment.js";
import { deploymentScope } from "../../src/proxy/router/deployment-limits.js";

/** The deployment must set `rpm` or `tpm`: only then are its requests and tokens counted. */
export async function limitUsage(limiter: Limiter, deployment: Deployment | undefined): Promise<Usage | undefined> {
  const scope = deployment && deploymentScope(deployment);
  if (scope === undefined) throw new Error("the deployment has neither rpm nor tpm");
  return (await limiter.usage([scope])).get(scopeKey(scope));
}
