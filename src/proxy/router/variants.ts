/**
 * The wildcard variants the router has made (see `wildcardVariant`), kept so that a model's cooldowns and
 * load stay attached to one id, and bounded in number: clients choose the model names, and no name may cost
 * memory for ever.
 */
import { type Deployment, isWildcard, variantId, wildcardVariant } from "./deployment.js";

/** More models than a cluster serves at once; past it, the least recently used variant is forgotten. */
export const MAX_WILDCARD_VARIANTS = 1024;

export class WildcardVariants {
  /** By id; a Map iterates in insertion order, so re-inserting on use keeps the least recently used first. */
  private readonly live = new Map<string, Deployment>();

  /** `forget` is told the id of each variant dropped, so that the state can drop what it kept about it. */
  constructor(
    private readonly forget: (id: string) => void,
    private readonly max = MAX_WILDCARD_VARIANTS,
  ) {}

  /** What to call for a client's model: a wildcard deployment's variant for `match`, else the deployment itself. */
  of(deployment: Deployment, match: string | undefined): Deployment {
    if (match === undefined || !isWildcard(deployment)) return deployment;
    const id = variantId(deployment.id, match);
    const known = this.live.get(id);
    this.live.delete(id);
    // A long match is hashed in its id: reuse the variant only if it was made for this very match.
    const variant = known?.model === deployment.model.replace("*", match) ? known : wildcardVariant(deployment, match);
    this.live.set(id, variant);
    if (this.live.size > this.max) {
      const [oldest] = this.live.keys();
      if (oldest !== undefined) {
        this.live.delete(oldest);
        this.forget(oldest);
      }
    }
    return variant;
  }

  /** The variants in use, least recently used first. */
  all(): Deployment[] {
    return [...this.live.values()];
  }
}
