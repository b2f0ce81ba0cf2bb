/**
 * Loads a LiteLLM-format config.yaml: read → parse YAML (with positions) → apply `environment_variables` →
 * resolve `os.environ/NAME` → skip other providers' entries → validate (zod) → cross-checks → typed config.
 * Every failure is one ConfigError listing every problem found at that stage, each with its line and
 * column; unknown keys are warnings, never failures.
 */
import { readFile } from "node:fs/promises";
import { isCollection, isScalar, isSeq, visit } from "yaml";
import { isPlainObject, missingVariableMessage, readEnvironmentSection, resolveEnvReferences, type Env } from "./env.js";
import { ConfigError, type ConfigIssue } from "./errors.js";
import { describeIssue, MODEL_LIST_EXAMPLE } from "./issues.js";
import { misplacedItemKeys } from "./misplaced.js";
import { adoptLitellmRouterSettings, dropIgnoredKeys, normalizeRoutingStrategy, withoutNulls } from "./normalize.js";
import { EntryIndex, nothingLeftIssue, otherProviderEntries, skippedWarning, strictIssue, type SkippedEntry } from "./other-providers.js";
import { formatPath, type KeyPath } from "./paths.js";
import { proxyConfigSchema, type ProxyConfig } from "./schema.js";
import { checkSemantics, DEFAULT_KNOWN_PROVIDERS } from "./semantic.js";
import { issueAt, locateKey, parseSource, type Source } from "./source.js";
import { formatFinding, KeyChecker } from "./unknown-keys.js";

export interface LoadedConfig {
  config: ProxyConfig;
  /** One line each, ready to print: unknown keys, unsupported LiteLLM settings, odd values. */
  warnings: string[];
  /**
   * The file's `environment_variables`, resolved. They were used for `os.environ/` references; exporting
   * them to `process.env` (so the SDK sees e.g. XINFERENCE_API_KEY) is the caller's decision.
   */
  environment: Record<string, string>;
}

export interface LoadOptions {
  /** The environment `os.environ/NAME` reads; defaults to `process.env`. Never modified. */
  env?: NodeJS.ProcessEnv;
  /** Provider prefixes a model string may use (`xinference/...`). */
  knownProviders?: readonly string[];
  /** Entries of other providers (`openai/gpt-4o`) are errors, instead of being skipped with a warning (`--strict`). */
  strict?: boolean;
}

const keyChecker = new KeyChecker(proxyConfigSchema);

/**
 * Reads and validates a config file.
 *
 * @example
 * const { config, warnings, environment } = await loadConfig("config.yaml");
 * for (const w of warnings) console.warn(w);
 */
export async function loadConfig(path: string, options: LoadOptions = {}): Promise<LoadedConfig> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason =
      code === "ENOENT" ? "no such file" : code === "EISDIR" ? "it is a directory, not a file" : code === "EACCES" ? "permission denied" : (err as Error).message;
    throw new ConfigError(path, [{ message: `cannot read the config file: ${reason}. Pass the path of a LiteLLM-format config.yaml to --config.` }]);
  }
  return parseConfig(text, path, options.env ?? process.env, options);
}

/** Validates config text; `fileName` is only used in messages. */
export function parseConfig(
  text: string,
  fileName: string,
  env: NodeJS.ProcessEnv = process.env,
  options: Pick<LoadOptions, "knownProviders" | "strict"> = {},
): LoadedConfig {
  const parsed = parseSource(text.replace(/^\uFEFF/, ""));
  const { source } = parsed;
  const fail: Fail = (issues, notes = []) => {
    throw new ConfigError(fileName, issues, notes);
  };
  if (parsed.errors.length > 0) {
    const [first, ...rest] = parsed.errors;
    fail([first!], rest.map((e) => `line ${e.line}, column ${e.column}: ${e.message} (this often follows from the first error)`));
  }
  const data = topLevelMap(source, fail);
  const warnings = [...parsed.warnings];

  const environment = readEnvironmentSection(data.environment_variables, env as Env);
  const resolutionEnv: Env = { ...(env as Env), ...environment.values };
  const resolved = resolveEnvReferences(data, resolutionEnv, new Set(["environment_variables"]));
  const knownProviders = options.knownProviders ?? DEFAULT_KNOWN_PROVIDERS;
  const resolvedData = resolved.value as Record<string, unknown>;
  const skipped = otherProviderEntries(resolvedData.model_list, knownProviders);
  const inSkippedEntry = entryTest(skipped);
  const envIssues = [
    ...environment.issues.map((i) => issueAt(source, i.path, i.message)),
    ...[...environment.missing, ...resolved.missing.filter((ref) => !inSkippedEntry(ref.path))].map((ref) =>
      issueAt(source, ref.path, missingVariableMessage(ref)),
    ),
    ...(options.strict ? skipped.map((entry) => strictIssue(entry, source, knownProviders)) : []),
  ];
  if (envIssues.length > 0) fail(envIssues);
  const fileList = Array.isArray(resolvedData.model_list) ? resolvedData.model_list : [];
  if (skipped.length > 0 && skipped.length === fileList.length) fail([nothingLeftIssue(skipped, source, knownProviders)]);
  warnings.push(...skipped.map((entry) => skippedWarning(entry, source, knownProviders)));

  // From here on the model_list is the one served; messages name entries by their index in the file.
  const index = new EntryIndex(fileList.length, skipped);
  const served = Array.isArray(resolvedData.model_list)
    ? { ...resolvedData, model_list: fileList.filter((_, i) => !inSkippedEntry(["model_list", i])) }
    : resolvedData;
  const findings = keyChecker.check(served);
  const keyWarnings = findings.map((finding) => {
    const path = index.filePath(finding.path);
    return formatFinding({ ...finding, path }, locateKey(source, path)?.line);
  });
  warnings.push(...keyWarnings);

  const input = withoutNulls(served) as Record<string, unknown>;
  input.environment_variables = environment.values;
  const strategy = normalizeRoutingStrategy(input);
  if (strategy) {
    const line = locateKey(source, ["router_settings", "routing_strategy"])?.line;
    warnings.push(`router_settings.routing_strategy${line ? ` (line ${line})` : ""} ${strategy}`);
  }

  const misplaced = misplacedItemKeys(data, source, new Set(skipped.map((entry) => entry.index)));
  const result = proxyConfigSchema.safeParse(input, { reportInput: true });
  if (!result.success || misplaced.length > 0) {
    const envOrigins = new Map(resolved.used.map((ref) => [formatPath(ref.path), ref.variable]));
    const schemaIssues = (result.error?.issues ?? []).map((issue) => {
      const described = describeIssue({ ...issue, path: index.filePath(issue.path) }, { data: resolved.value, envOrigins });
      return issueAt(source, described.path, described.message, described.atKey);
    });
    const issues = sortByLine([...misplaced, ...schemaIssues]);
    fail(issues, notesBeside(issues, keyWarnings));
  }
  const config = result.data;

  dropIgnoredKeys(config, findings);

  const semantic = checkSemantics(config, {
    knownProviders,
    lineOf: (path) => locateKey(source, path)?.line,
    fileIndex: (i) => index.inFile(i),
    skippedGroups: new Set(skipped.flatMap((entry) => (entry.group === undefined ? [] : [entry.group]))),
  });
  if (semantic.issues.length > 0) {
    const issues = sortByLine(semantic.issues.map((i) => issueAt(source, i.path, i.message, i.atKey)));
    fail(issues, notesBeside(issues, keyWarnings));
  }
  warnings.push(...semantic.warnings);
  // After the checks, so a fallback is reported once, at the place it is written.
  adoptLitellmRouterSettings(config, input);
  return { config, warnings, environment: environment.values };
}

type Fail = (issues: ConfigIssue[], notes?: string[]) => never;

/** Whether a key path lies inside one of the skipped entries. */
function entryTest(skipped: readonly SkippedEntry[]): (path: KeyPath) => boolean {
  const indices = new Set(skipped.map((entry) => entry.index));
  return (path) => path[0] === "model_list" && typeof path[1] === "number" && indices.has(path[1]);
}

function topLevelMap(source: Source, fail: Fail): Record<string, unknown> {
  const root = source.doc.contents;
  if (root === null || (isScalar(root) && (root.value === null || root.value === ""))) {
    fail([{ message: `the config is empty. It needs at least a model_list, for example:\n\n${MODEL_LIST_EXAMPLE}` }]);
  }
  const complexKeys: ConfigIssue[] = [];
  visit(source.doc, {
    Pair(_, pair) {
      if (!isCollection(pair.key)) return;
      const { line, col } = source.lineCounter.linePos(pair.key.range?.[0] ?? 0);
      complexKeys.push({ line, column: col, message: "a key must be plain text, not a list or a map (`? [a, b]`)." });
    },
  });
  if (complexKeys.length > 0) fail(complexKeys);
  let data: unknown;
  try {
    data = source.doc.toJS({ maxAliasCount: 1000 });
  } catch (err) {
    // yaml refuses alias bombs ("Excessive alias count") here rather than while parsing.
    fail([{ message: `the config cannot be read: ${(err as Error).message}` }]);
  }
  if (!isPlainObject(data)) {
    const kind = isSeq(root) ? "a list" : "a single value";
    fail([
      {
        line: 1,
        column: 1,
        message: `the top level of the config must be a map of sections (model_list:, general_settings:, …), but it is ${kind}. For example:\n\n${MODEL_LIST_EXAMPLE}`,
      },
    ]);
  }
  return data as Record<string, unknown>;
}

/** Unknown-key warnings often explain an error (a misspelt required key); those about an erroring key add nothing. */
function notesBeside(issues: readonly ConfigIssue[], keyWarnings: readonly string[]): string[] {
  const erroring = issues.map((i) => i.path).filter((p): p is string => p !== undefined);
  return keyWarnings.filter((w) => !erroring.some((p) => w.startsWith(`${p} `) || w.startsWith(`unknown key ${p} `)));
}

function sortByLine(issues: ConfigIssue[]): ConfigIssue[] {
  return [...issues].sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
}
