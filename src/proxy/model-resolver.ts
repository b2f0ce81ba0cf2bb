/**
 * Which model group a request's `model` means. In order: a `router_settings.model_group_alias`, a
 * `model_name`, the underlying `litellm_params.model` with or without its provider prefix — so a client
 * that sends the bare uid `stabilityai/stable-diffusion-3.5-large` (as Xinference's own docs do) reaches
 * the deployment that serves it — and last a wildcard `model_name` such as `xinference/*`.
 */
import { NotFoundError } from "../errors.js";
import type { ModelAlias } from "./settings.js";

export interface ModelEntryLike {
  model_name: string;
  litellm_params: { model: string };
}

export interface Resolution {
  /** The model group whose deployments serve the request. */
  group: string;
  /** For a wildcard group: the part of the requested model that the `*` stood for. */
  wildcardMatch?: string;
}

interface Wildcard {
  group: string;
  prefix: string;
  suffix: string;
}

function withoutProvider(model: string): string {
  const slash = model.indexOf("/");
  return slash === -1 ? model : model.slice(slash + 1);
}

export class ModelResolver {
  private readonly groups = new Set<string>();
  private readonly wildcards: Wildcard[] = [];
  private readonly byUnderlyingModel = new Map<string, string>();
  private readonly aliases: ReadonlyMap<string, ModelAlias>;

  constructor(entries: readonly ModelEntryLike[], aliases: ReadonlyMap<string, ModelAlias> = new Map()) {
    this.aliases = aliases;
    for (const entry of entries) {
      const star = entry.model_name.indexOf("*");
      if (star !== -1) {
        this.wildcards.push({
          group: entry.model_name,
          prefix: entry.model_name.slice(0, star),
          suffix: entry.model_name.slice(star + 1),
        });
        continue;
      }
      this.groups.add(entry.model_name);
      const underlying = entry.litellm_params.model;
      // The first group that serves a model wins; a model_name is always preferred to this lookup anyway.
      if (!this.byUnderlyingModel.has(underlying)) this.byUnderlyingModel.set(underlying, entry.model_name);
      const bare = withoutProvider(underlying);
      if (!this.byUnderlyingModel.has(bare)) this.byUnderlyingModel.set(bare, entry.model_name);
    }
  }

  /** The model names a client can see in `/v1/models`: the groups and the aliases not marked `hidden`. */
  publicNames(): string[] {
    const names = [...this.groups];
    for (const [name, alias] of this.aliases) if (!alias.hidden && !this.groups.has(name)) names.push(name);
    return names;
  }

  resolve(requested: string): Resolution {
    const aliased = this.aliases.get(requested)?.group;
    if (aliased !== undefined && this.groups.has(aliased)) return { group: aliased };
    if (this.groups.has(requested)) return { group: requested };
    // A deployment configured for exactly this model beats a wildcard that would also match it.
    const byModel = this.byUnderlyingModel.get(requested);
    if (byModel !== undefined) return { group: byModel };
    for (const w of this.wildcards) {
      if (
        requested.length > w.prefix.length + w.suffix.length &&
        requested.startsWith(w.prefix) &&
        requested.endsWith(w.suffix)
      ) {
        return { group: w.group, wildcardMatch: requested.slice(w.prefix.length, requested.length - w.suffix.length) };
      }
    }
    throw new NotFoundError(this.notFoundMessage(requested), { param: "model" });
  }

  private notFoundMessage(requested: string): string {
    const available = [...this.publicNames(), ...this.wildcards.map((w) => w.group)];
    const shown = available.slice(0, 20).join(", ") + (available.length > 20 ? `, … (${available.length} in all)` : "");
    return `Model '${requested}' is not served by this proxy. Available models: ${shown || "none"}. Add it to model_list in the config, or use one of these.`;
  }
}
