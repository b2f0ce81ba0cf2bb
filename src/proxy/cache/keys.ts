/**
 * Cache keys: one per input, a SHA-256 over everything that decides its vector — the models the group's
 * deployments call and their provider parameters, the request's `dimensions` and extra parameters, and the
 * input itself, text and token ids kept apart — under the namespace. The encoding is left out (an entry
 * serves both where it can, see entries.ts), and so is `user`, which tags a call but never shapes a vector.
 */
import { createHash, type Hash } from "node:crypto";
import type { EmbeddingsRequest } from "../../operations/index.js";
import { canonicalJson } from "../canonical-json.js";
import type { Deployment } from "../router/index.js";

/** Changes whenever what an entry holds, or how a key is made, changes: old entries are then never read. */
const FORMAT_VERSION = "xgate-embedding-v1";

/**
 * What a group's deployments call: each one's model (a wildcard's `*` filled with the model asked for) and
 * provider parameters, as canonical JSON. Deployments that call the same thing count once.
 */
export function groupIdentity(deployments: readonly Deployment[], wildcardMatch: string | undefined): string {
  const calls = new Set<string>();
  for (const d of deployments) {
    const model = wildcardMatch === undefined ? d.model : d.model.replace("*", wildcardMatch);
    calls.add(canonicalJson([model, d.extras]));
  }
  return `[${[...calls].sort().join(",")}]`;
}

/** The hash state after everything but the input: copied once per input. */
function prefix(identity: string, request: EmbeddingsRequest): Hash {
  const parameters = canonicalJson({ dimensions: request.dimensions ?? null, extras: request.extras });
  // Canonical JSON holds no raw newline, so these never run into each other or into the input.
  return createHash("sha256").update(`${FORMAT_VERSION}\n${identity}\n${parameters}\n`);
}

/** The key of each of the request's inputs, in order. */
export function cacheKeys(identity: string, request: EmbeddingsRequest, namespace: string): string[] {
  const base = prefix(identity, request);
  const keys: string[] = [];
  for (const item of request.items) {
    const hash = base.copy();
    if (typeof item === "string") hash.update("t").update(item);
    else hash.update("i").update(item.join(","));
    keys.push(`${namespace}:${hash.digest("hex")}`);
  }
  return keys;
}
