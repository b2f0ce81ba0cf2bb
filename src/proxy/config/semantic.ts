/**
 * Checks that need the whole config, for mistakes that would otherwise surface only when a request
 * arrives: a model string no provider serves, a fallback or alias naming a group that does not exist, two
 * deployments with one id, an auto_launch that cannot work. Entries of other providers were skipped before
 * (other-providers.ts); a fallback or alias that names one of their groups is left out with a warning.
 */
import { checkPricing } from "../spend/cost.js";
import { BadRequestError } from "../../errors.js";
import { getProvider, listProviders } from "../../providers/index.js";
import { fallbackApiBase } from "../../upstream/target.js";
import { EMBEDDING_CALL_TYPES } from "../cache/settings.js";
import { formatPath, type KeyPath } from "./paths.js";
import { MODEL_MODES, SERVED_MODES, XINFERENCE_MODEL_TYPES, type ProxyConfig } from "./schema.js";
import { closestKey } from "./unknown-keys.js";

/** The providers of the SDK's registry: a provider added there is known here with no change. */
export const DEFAULT_KNOWN_PROVIDERS: readonly string[] = listProviders();

export interface SemanticOptions {
  knownProviders: readonly string[];
  /** The line a key path is on, for warnings. */
  lineOf: (path: KeyPath) => number | undefined;
  /** The file's index of `config.model_list[i]`, when skipped entries were left out of the list. */
  fileIndex?: (i: number) => number;
  /** The model_name of every skipped entry: references to them are left out, not errors. */
  skippedGroups?: ReadonlySet<string>;
}

export interface SemanticResult {
  issues: { path: KeyPath; message: string; atKey?: boolean }[];
  warnings: string[];
}

/** Xinference's `model_type` for each LiteLLM mode, so `auto_launch` can leave it out. */
const MODEL_TYPE_BY_MODE: Readonly<Record<string, (typeof XINFERENCE_MODEL_TYPES)[number]>> = {
  embedding: "embedding",
  image_generation: "image",
  image_edit: "image",
  rerank: "rerank",
  chat: "LLM",
  completion: "LLM",
  responses: "LLM",
  audio_transcription: "audio",
  audio_speech: "audio",
  video_generation: "video",
};

function wildcardMatches(pattern: string, name: string): boolean {
  const star = pattern.indexOf("*");
  if (star === -1) return false;
  const prefix = pattern.slice(0, star);
  const suffix = pattern.slice(star + 1);
  return name.length > prefix.length + suffix.length && name.startsWith(prefix) && name.endsWith(suffix);
}

function list(names: Iterable<string>): string {
  const all = [...names];
  return all.length === 0 ? "none" : all.join(", ");
}

/**
 * Runs the checks. Mutates `config` only to fill `auto_launch.model_type` from `model_info.mode` and to
 * leave out references to skipped groups, which is why this runs after the schema and before the config
 * is handed out.
 */
export function checkSemantics(config: ProxyConfig, options: SemanticOptions): SemanticResult {
  const result: SemanticResult = { issues: [], warnings: [] };
  const at = (path: KeyPath): string => {
    const line = options.lineOf(path);
    return line === undefined ? "" : ` (line ${line})`;
  };
  checkDeployments(config, options, result, at);
  checkGroupReferences(config, options.skippedGroups ?? new Set(), result, at);
  checkCachedCallTypes(config, result, at);
  return result;
}

/** A cache asked for calls xgate does not cache would silently cache nothing. */
function checkCachedCallTypes(config: ProxyConfig, result: SemanticResult, at: (path: KeyPath) => string): void {
  const { cache, cache_params } = config.litellm_settings;
  const types = cache_params.supported_call_types;
  if (!cache || types === undefined || types.some((type) => EMBEDDING_CALL_TYPES.includes(type))) return;
  const path = ["litellm_settings", "cache_params", "supported_call_types"];
  result.warnings.push(
    `${formatPath(path)}${at(path)} names no embedding call type: xgate caches only embeddings, so nothing is cached; ` +
      `add ${EMBEDDING_CALL_TYPES.join(" and ")}, or leave the key out`,
  );
}

/** The fix for a model string without a provider xgate knows: the likely prefix, or the default one before it all. */
function providerFix(model: string, provider: string, knownProviders: readonly string[]): string {
  const example = knownProviders[0] ?? "xinference";
  if (provider === "") return `Write <provider>/<model>, e.g. ${example}/${model}.`;
  const meant = closestKey(provider, knownProviders);
  const rest = model.slice(provider.length + 1);
  if (meant !== undefined) return `Did you mean ${meant}/${rest}?`;
  // Xinference uids may contain a slash (`stabilityai/stable-diffusion-3.5-large`): the whole string may be the uid.
  return `Write <provider>/<model>, e.g. ${example}/${model}.`;
}

/**
 * Why a deployment of this provider cannot go without an api_base (the SDK's own rule: a provider without a
 * default server), or undefined when it can, or when the provider is not the registry's (an injected name).
 */
function missingApiBase(provider: string): string | undefined {
  if (!listProviders().includes(provider)) return undefined;
  try {
    fallbackApiBase(getProvider(provider).connection);
    return undefined;
  } catch (err) {
    if (err instanceof BadRequestError) return `${err.message} Set it under litellm_params (os.environ/NAME reads it from the environment).`;
    throw err;
  }
}

function checkDeployments(
  config: ProxyConfig,
  options: SemanticOptions,
  result: SemanticResult,
  at: (path: KeyPath) => string,
): void {
  const ids = new Map<string, number>();
  const fileIndex = options.fileIndex ?? ((i: number) => i);
  config.model_list.forEach((deployment, listIndex) => {
    const i = fileIndex(listIndex);
    const model = deployment.litellm_params.model;
    const modelPath = ["model_list", i, "litellm_params", "model"];
    const slash = model.indexOf("/");
    const provider = slash === -1 ? "" : model.slice(0, slash);
    if (!options.knownProviders.includes(provider)) {
      result.issues.push({
        path: modelPath,
        message:
          `${formatPath(modelPath)}: '${model}' does not start with a provider xgate knows (${list(options.knownProviders)}). ` +
          providerFix(model, provider, options.knownProviders),
      });
    } else if (model.slice(slash + 1).trim() === "") {
      result.issues.push({
        path: modelPath,
        message: `${formatPath(modelPath)}: '${model}' names no model; write ${provider}/<model uid>, or ${provider}/* for every model.`,
      });
    } else if (deployment.litellm_params.api_base === undefined) {
      const missing = missingApiBase(provider);
      const apiBasePath = ["model_list", i, "litellm_params", "api_base"];
      if (missing !== undefined) result.issues.push({ path: modelPath, message: `${formatPath(apiBasePath)}: ${missing}` });
    }

    for (const issue of checkPricing(deployment.model_info, deployment.litellm_params)) {
      result.issues.push({ path: ["model_list", i, ...issue.path], message: `${formatPath(["model_list", i, ...issue.path])}: ${issue.message}` });
    }

    const info = deployment.model_info;
    if (info.id !== undefined) {
      const first = ids.get(info.id);
      if (first !== undefined) {
        result.issues.push({
          path: ["model_list", i, "model_info", "id"],
          message: `${formatPath(["model_list", i, "model_info", "id"])} '${info.id}' is also the id of model_list[${first}]; ids identify deployments, so each must be unique.`,
        });
      } else {
        ids.set(info.id, i);
      }
    }

    const modePath = ["model_list", i, "model_info", "mode"];
    if (info.mode !== undefined && !(MODEL_MODES as readonly string[]).includes(info.mode)) {
      const guess = closestKey(info.mode, MODEL_MODES);
      result.warnings.push(
        `${formatPath(modePath)}${at(modePath)} is '${info.mode}', which is not a mode LiteLLM knows` +
          (guess ? `; did you mean ${guess}?` : ` (${MODEL_MODES.join(", ")})`),
      );
    } else if (info.mode !== undefined && !SERVED_MODES.has(info.mode)) {
      result.warnings.push(
        `${formatPath(modePath)}${at(modePath)} is '${info.mode}': xgate has no route for that mode yet ` +
          `(it serves ${[...SERVED_MODES].join(", ")}), so '${deployment.model_name}' is listed but cannot be called`,
      );
    }

    const launch = info.auto_launch;
    if (launch !== undefined) {
      const launchPath = ["model_list", i, "model_info", "auto_launch"];
      if (model.includes("*")) {
        result.issues.push({
          path: launchPath,
          message: `${formatPath(launchPath)}: '${model}' is a wildcard, and only one named model can be launched; move auto_launch to a deployment of a single model.`,
        });
      } else if (launch.model_type === undefined) {
        const inferred = info.mode === undefined ? undefined : MODEL_TYPE_BY_MODE[info.mode];
        if (inferred === undefined) {
          result.issues.push({
            path: launchPath,
            message:
              `${formatPath(launchPath)} needs model_type (one of ${XINFERENCE_MODEL_TYPES.join(", ")}) ` +
              "to launch the model; set it, or set model_info.mode so xgate can tell.",
          });
        } else {
          launch.model_type = inferred;
        }
      }
    }
  });
}

function checkGroupReferences(
  config: ProxyConfig,
  skippedGroups: ReadonlySet<string>,
  result: SemanticResult,
  at: (path: KeyPath) => string,
): void {
  const groups = new Set(config.model_list.map((d) => d.model_name));
  const wildcards = [...groups].filter((g) => g.includes("*"));
  const aliases = config.router_settings.model_group_alias;
  const served = (name: string): boolean => groups.has(name) || wildcards.some((w) => wildcardMatches(w, name));
  const exists = (name: string): boolean => served(name) || Object.hasOwn(aliases, name);
  const droppedAliases = new Set<string>();
  const skipped = (name: string): boolean =>
    skippedGroups.has(name) ||
    droppedAliases.has(name) ||
    [...skippedGroups].some((w) => w.includes("*") && wildcardMatches(w, name));
  /** Reports a reference to a group that is not served; true when it names a skipped group and is to be left out. */
  const unserved = (path: KeyPath, name: string, verb = "names"): boolean => {
    if (skipped(name)) {
      result.warnings.push(
        `${formatPath(path)}${at(path)} ${verb} the group '${name}', whose deployments are all skipped (another provider's models), so it is left out`,
      );
      return true;
    }
    result.issues.push({
      path,
      atKey: path.at(-1) === name,
      message: `${formatPath(path)} ${verb} the group '${name}', which does not exist. Groups (model_name values): ${list(groups)}.`,
    });
    return false;
  };

  // Aliases first: a fallback may name an alias, and one that pointed to a skipped group is gone.
  for (const [alias, target] of Object.entries(aliases)) {
    const group = typeof target === "string" ? target : target.model;
    const path = ["router_settings", "model_group_alias", alias, ...(typeof target === "string" ? [] : ["model"])];
    if (!served(group) && unserved(path, group, "points to")) {
      delete aliases[alias];
      droppedAliases.add(alias);
    }
  }

  for (const section of ["litellm_settings", "router_settings"] as const) {
    const settings = config[section];
    if (settings.fallbacks !== undefined) {
      settings.fallbacks = settings.fallbacks.filter((entry, j) => {
        for (const [group, targets] of Object.entries(entry)) {
          if (group !== "*" && !exists(group) && unserved([section, "fallbacks", j, group], group)) return false;
          entry[group] = targets.filter((target, k) => exists(target) || !unserved([section, "fallbacks", j, group, k], target));
        }
        return true;
      });
    }
    if (settings.default_fallbacks !== undefined) {
      settings.default_fallbacks = settings.default_fallbacks.filter(
        (target, k) => exists(target) || !unserved([section, "default_fallbacks", k], target),
      );
    }
  }
}
